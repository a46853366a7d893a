"""A scheduled function that records each tick."""

from results import record


def handler(event, context):
    record("tick", source=event["source"], detail_type=event["detail-type"])
