def run(payload):
    return {"word": payload["word"].upper()}
