def run(payload):
    return {"message": "Hello " + payload["name"]}
