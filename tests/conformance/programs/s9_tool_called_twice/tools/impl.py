def run(payload):
    return {"total": payload["a"] + payload["b"]}
