import time


def run(payload):
    time.sleep(5)
    return {"message": "late"}
