def run(payload):
    raise ValueError("tool broke on " + payload["name"])
