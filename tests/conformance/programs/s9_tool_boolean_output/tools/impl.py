def run(payload):
    return {"even": payload["n"] % 2 == 0}
