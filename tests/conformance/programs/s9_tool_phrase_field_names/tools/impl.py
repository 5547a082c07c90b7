def run(payload):
    return {"greeting text": "Hi " + payload["first name"]}
