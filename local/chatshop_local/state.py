"""Keeps the embedded AWS's data across restarts, in the state folder.

The emulator starts empty each time and the stack is deployed afresh, so data is saved by logical
id, not by physical name: table items, bucket objects, queue messages and SSM parameters are written
out when the stack stops and put back after the next deployment. A resource added to the template
starts empty; one removed from it is dropped with its data.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .deploy import DeployedStack

SNAPSHOT_DIR = "snapshot"
SSM_ROOT = "/"
_BATCH_WRITE_LIMIT = 25


@dataclass(frozen=True)
class SnapshotSummary:
    items: int
    objects: int
    messages: int
    parameters: int = 0


class StateStore:
    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir
        self.snapshot = state_dir / SNAPSHOT_DIR

    def has_snapshot(self) -> bool:
        return (self.snapshot / "manifest.json").is_file()

    def save(self, stack: DeployedStack, clients: Any) -> SnapshotSummary:
        staging = self.root / f"{SNAPSHOT_DIR}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        summary = SnapshotSummary(
            items=_save_tables(stack, clients.client("dynamodb"), staging / "dynamodb"),
            objects=_save_buckets(stack, clients.client("s3"), staging / "s3"),
            messages=_save_queues(stack, clients.client("sqs"), staging / "sqs"),
            parameters=_save_parameters(clients.client("ssm"), staging / "ssm.json"),
        )
        (staging / "manifest.json").write_text(json.dumps({"stack": stack.name, **summary.__dict__}))
        # Swap in the new snapshot only once it is complete, so a crash never leaves half of one.
        previous = self.root / f"{SNAPSHOT_DIR}.previous"
        shutil.rmtree(previous, ignore_errors=True)
        if self.snapshot.exists():
            self.snapshot.rename(previous)
        staging.rename(self.snapshot)
        shutil.rmtree(previous, ignore_errors=True)
        return summary

    def restore(self, stack: DeployedStack, clients: Any) -> SnapshotSummary:
        if not self.has_snapshot():
            return SnapshotSummary(0, 0, 0)
        return SnapshotSummary(
            items=_restore_tables(stack, clients.client("dynamodb"), self.snapshot / "dynamodb"),
            objects=_restore_buckets(stack, clients.client("s3"), self.snapshot / "s3"),
            messages=_restore_queues(stack, clients.client("sqs"), self.snapshot / "sqs"),
            parameters=_restore_parameters(clients.client("ssm"), self.snapshot / "ssm.json"),
        )


def _save_tables(stack: DeployedStack, dynamodb: Any, folder: Path) -> int:
    folder.mkdir(parents=True)
    count = 0
    for table in stack.of_type("AWS::DynamoDB::Table"):
        with (folder / f"{table.logical_id}.jsonl").open("w") as out:
            for page in dynamodb.get_paginator("scan").paginate(TableName=table.physical_id):
                for item in page["Items"]:
                    out.write(json.dumps(item, default=_encode_bytes) + "\n")
                    count += 1
    return count


def _restore_tables(stack: DeployedStack, dynamodb: Any, folder: Path) -> int:
    count = 0
    for table in stack.of_type("AWS::DynamoDB::Table"):
        path = folder / f"{table.logical_id}.jsonl"
        if not path.is_file():
            continue
        for chunk in _chunks(_read_jsonl(path), _BATCH_WRITE_LIMIT):
            requests = [{"PutRequest": {"Item": _decode_bytes(item)}} for item in chunk]
            while requests:
                response = dynamodb.batch_write_item(RequestItems={table.physical_id: requests})
                requests = response.get("UnprocessedItems", {}).get(table.physical_id, [])
            count += len(chunk)
    return count


def _save_buckets(stack: DeployedStack, s3: Any, folder: Path) -> int:
    count = 0
    for bucket in stack.of_type("AWS::S3::Bucket"):
        bucket_dir = folder / bucket.logical_id
        bucket_dir.mkdir(parents=True)
        index = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.physical_id):
            for entry in page.get("Contents", []):
                obj = s3.get_object(Bucket=bucket.physical_id, Key=entry["Key"])
                blob = f"{count:08d}"
                (bucket_dir / blob).write_bytes(obj["Body"].read())
                index.append(
                    {
                        "key": entry["Key"],
                        "blob": blob,
                        "content_type": obj.get("ContentType"),
                        "metadata": obj.get("Metadata", {}),
                    }
                )
                count += 1
        (bucket_dir / "index.json").write_text(json.dumps(index))
    return count


def _restore_buckets(stack: DeployedStack, s3: Any, folder: Path) -> int:
    count = 0
    for bucket in stack.of_type("AWS::S3::Bucket"):
        index_path = folder / bucket.logical_id / "index.json"
        if not index_path.is_file():
            continue
        for entry in json.loads(index_path.read_text()):
            extra = {"ContentType": entry["content_type"]} if entry.get("content_type") else {}
            s3.put_object(
                Bucket=bucket.physical_id,
                Key=entry["key"],
                Body=(index_path.parent / entry["blob"]).read_bytes(),
                Metadata=entry.get("metadata", {}),
                **extra,
            )
            count += 1
    return count


def _save_queues(stack: DeployedStack, sqs: Any, folder: Path) -> int:
    """Drains each queue's visible messages; call it after the pollers have stopped."""
    folder.mkdir(parents=True)
    count = 0
    for queue in stack.of_type("AWS::SQS::Queue"):
        messages = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=queue.physical_id,
                MaxNumberOfMessages=10,
                VisibilityTimeout=300,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(_message_to_resend(m) for m in batch)
        (folder / f"{queue.logical_id}.json").write_text(json.dumps(messages))
        count += len(messages)
    return count


def _message_to_resend(message: dict[str, Any]) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    resend: dict[str, Any] = {"MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        resend["MessageAttributes"] = {
            name: {k: v for k, v in value.items() if k in ("DataType", "StringValue")}
            for name, value in message["MessageAttributes"].items()
            if "StringValue" in value
        }
    if "MessageGroupId" in attributes:
        resend["MessageGroupId"] = attributes["MessageGroupId"]
        resend["MessageDeduplicationId"] = attributes.get("MessageDeduplicationId") or message["MessageId"]
    return resend


def _restore_queues(stack: DeployedStack, sqs: Any, folder: Path) -> int:
    count = 0
    for queue in stack.of_type("AWS::SQS::Queue"):
        path = folder / f"{queue.logical_id}.json"
        if not path.is_file():
            continue
        for message in json.loads(path.read_text()):
            sqs.send_message(QueueUrl=queue.physical_id, **message)
            count += 1
    return count


def _save_parameters(ssm: Any, path: Path) -> int:
    """SSM parameters (shops' channel tokens among them): local stand-ins, kept readable by the owner only."""
    parameters = [
        {"name": p["Name"], "type": p["Type"], "value": p["Value"]}
        for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path=SSM_ROOT, Recursive=True, WithDecryption=True
        )
        for p in page["Parameters"]
    ]
    path.write_text(json.dumps(parameters))
    os.chmod(path, 0o600)
    return len(parameters)


def _restore_parameters(ssm: Any, path: Path) -> int:
    if not path.is_file():
        return 0
    parameters = json.loads(path.read_text())
    for parameter in parameters:
        ssm.put_parameter(
            Name=parameter["name"], Value=parameter["value"], Type=parameter["type"], Overwrite=True
        )
    return len(parameters)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open() as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _chunks(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _encode_bytes(value: Any) -> Any:
    # DynamoDB binary attributes arrive as bytes; JSON keeps them as base64 under a marker key.
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(value).decode()}
    raise TypeError(f"cannot save {type(value).__name__}")


def _decode_bytes(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_bytes(v) for v in value]
    return value
