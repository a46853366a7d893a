"""An API function that answers with what it was given, and fails on /boom."""

import json
import os


def handler(event, context):
    if event["resource"] == "/boom":
        raise RuntimeError("boom: this traceback must stay in the log")
    body = {
        "method": event["httpMethod"],
        "name": event["pathParameters"]["name"],
        "query": event["multiValueQueryStringParameters"],
        "body": event["body"],
        "base64": event["isBase64Encoded"],
        "function": context.function_name,
        "table": os.environ["RESULTS_TABLE"],
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(body),
    }
