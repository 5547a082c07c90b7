def run(payload):
    return {"message": 42}
