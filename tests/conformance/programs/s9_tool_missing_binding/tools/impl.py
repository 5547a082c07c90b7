def run(payload):
    return {"message": "never"}
