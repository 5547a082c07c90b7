def run(payload):
    return {"message": payload["name"]}
