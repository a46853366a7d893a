"""Where the test functions write what happened to them, for the tests to read."""

import os

import boto3


def record(item_id: str, **fields: object) -> None:
    """Count one more attempt on ``item_id`` and set ``fields`` on it."""
    table = boto3.resource("dynamodb").Table(os.environ["RESULTS_TABLE"])
    assignments = ", ".join(f"#{name} = :{name}" for name in fields)
    table.update_item(
        Key={"id": item_id},
        UpdateExpression="ADD #attempts :one" + (f" SET {assignments}" if assignments else ""),
        ExpressionAttributeNames={"#attempts": "attempts", **{f"#{name}": name for name in fields}},
        ExpressionAttributeValues={":one": 1, **{f":{name}": value for name, value in fields.items()}},
    )
