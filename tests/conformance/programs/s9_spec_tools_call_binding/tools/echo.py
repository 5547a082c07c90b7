def run(payload):
    return {"result": payload}
