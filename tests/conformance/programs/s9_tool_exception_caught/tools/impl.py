def run(payload):
    raise ValueError("tool broke")
