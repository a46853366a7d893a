"""Events for `chatshop invoke` when none is given: shaped like the function's first trigger."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from .apigw import GatewayContext, HttpRequest, Route, RouteTable, build_proxy_event
from .dynamodb_streams import lambda_stream_record
from .schedules import scheduled_event
from .sqs_poller import lambda_record
from .template import ApiEvent, DynamoDBEvent, FunctionSpec, S3Event, ScheduleEvent, SqsEvent


def sample_event(spec: FunctionSpec, region: str, account_id: str, physical_ids: dict[str, str]) -> Any:
    if not spec.events:
        return {}
    event = spec.events[0]
    now = datetime.now(UTC)
    if isinstance(event, ApiEvent):
        path = event.path.replace("{proxy+}", "example").replace("{", "").replace("}", "")
        method = "GET" if event.method == "ANY" else event.method
        request = HttpRequest(method=method, path=path, query_string="", headers=[], body=b"")
        # The gateway's own matching fills in the path parameters, as for a real request.
        match = RouteTable([Route(event.path, event.method, spec.logical_id)]).match(method, path)
        context = GatewayContext(account_id=account_id, region=region)
        return build_proxy_event(request, match, context, str(uuid.uuid4()), now)
    if isinstance(event, SqsEvent):
        queue_name = physical_ids.get(event.queue, event.queue).rsplit("/", 1)[-1]
        arn = f"arn:aws:sqs:{region}:{account_id}:{queue_name}"
        message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "sample", "Body": "{}", "Attributes": {}}
        return {"Records": [lambda_record(message, arn, region)]}
    if isinstance(event, ScheduleEvent):
        if event.input is not None:
            return json.loads(event.input)
        arn = f"arn:aws:events:{region}:{account_id}:rule/{spec.logical_id}{event.name}"
        return scheduled_event(arn, region, account_id, now, str(uuid.uuid4()))
    if isinstance(event, S3Event):
        bucket = physical_ids.get(event.bucket, event.bucket)
        return {"Records": [_s3_record(bucket, region, now)]}
    if isinstance(event, DynamoDBEvent):
        table = physical_ids.get(event.table, event.table)
        stream_arn = f"arn:aws:dynamodb:{region}:{account_id}:table/{table}/stream/{now.isoformat()}"
        return {"Records": [lambda_stream_record(_stream_record(now), stream_arn, region)]}
    return {}


def _stream_record(now: datetime) -> dict[str, Any]:
    keys = {"pk": {"S": "EXAMPLE#1"}, "sk": {"S": "EXAMPLE#1"}}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": now,
            "Keys": keys,
            "NewImage": keys,
            "SequenceNumber": "100000000000000000001",
            "SizeBytes": 64,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def _s3_record(bucket: str, region: str, now: datetime) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "sample",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": "example.jpg", "size": 0, "eTag": "d41d8cd98f00b204e9800998ecf8427e"},
        },
    }
