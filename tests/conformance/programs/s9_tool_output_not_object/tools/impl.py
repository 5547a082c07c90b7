def run(payload):
    return ["hi", payload["name"]]
