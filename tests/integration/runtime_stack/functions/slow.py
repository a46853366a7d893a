"""An API function that runs past its one-second timeout."""

import time


def handler(event, context):
    time.sleep(1.2)
    return {"statusCode": 200, "body": "too late"}
