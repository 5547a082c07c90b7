def run(payload):
    data = payload["data"]
    return {"keys": sorted(data), "size": len(data)}
