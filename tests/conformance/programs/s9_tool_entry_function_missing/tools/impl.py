def other(payload):
    return {"message": "x"}
