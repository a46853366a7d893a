"""An S3-triggered function that records each object created."""

from urllib.parse import unquote_plus

from results import record


def handler(event, context):
    for notification in event["Records"]:
        key = unquote_plus(notification["s3"]["object"]["key"])
        record(f"object:{key}", event_name=notification["eventName"])
