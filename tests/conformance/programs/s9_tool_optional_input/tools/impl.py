def run(payload):
    title = payload.get("title")
    return {"message": ("no title" if title is None else title) + " " + payload["name"]}
