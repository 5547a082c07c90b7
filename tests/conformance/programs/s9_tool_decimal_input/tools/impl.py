def run(payload):
    return {"half": payload["n"] / 2}
