def run(payload):
    return {"message": "hi", "extra": 1}
