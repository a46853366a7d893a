"""An SQS consumer that fails on chosen messages: `fail-once-*` on first delivery, `poison-*` always."""

from results import record


def handler(event, context):
    batch_id = context.aws_request_id
    failures = []
    for message in event["Records"]:
        body = message["body"]
        receive_count = int(message["attributes"]["ApproximateReceiveCount"])
        record(body, last_batch=batch_id, batch_size=len(event["Records"]))
        if body.startswith("poison-") or (body.startswith("fail-once-") and receive_count == 1):
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}
