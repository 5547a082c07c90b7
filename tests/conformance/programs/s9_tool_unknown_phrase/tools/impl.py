def run(payload):
    return {"message": "hi"}
