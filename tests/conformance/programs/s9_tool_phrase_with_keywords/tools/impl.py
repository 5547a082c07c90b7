def run(payload):
    return {"count": len(payload["items"])}
