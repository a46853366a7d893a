"""Keeps the embedded AWS's data across restarts, in the state folder.

The emulator starts empty each time and the stack is deployed afresh, so data is saved by logical
id, not by physical name: table items, bucket objects, queue messages and SSM parameters are written
out when the stack stops and put back after the next deployment. A resource added to the template
starts empty; one removed from it is dropped with its data.

While the stack runs it is also saved every few seconds, so a crash or a kill loses only the last
seconds; those saves leave the queues alone (reading a queue takes its messages from the functions
polling it), so queue messages are saved on a clean stop only. A snapshot is written beside the
last one and swapped in with renames: whenever the process dies, one complete snapshot is left.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .deploy import DeployedStack
from .loops import BackgroundLoop

SNAPSHOT_DIR = "snapshot"
SSM_ROOT = "/"
MANIFEST = "manifest.json"
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
        self._staging = state_dir / f"{SNAPSHOT_DIR}.partial"
        self._previous = state_dir / f"{SNAPSHOT_DIR}.previous"
        self._saving = threading.Lock()  # a periodic save and the final one never overlap

    def has_snapshot(self) -> bool:
        self._recover()
        return (self.snapshot / MANIFEST).is_file()

    def _recover(self) -> None:
        """A process killed between the two renames of a swap left only the previous snapshot."""
        if not (self.snapshot / MANIFEST).is_file() and (self._previous / MANIFEST).is_file():
            shutil.rmtree(self.snapshot, ignore_errors=True)
            self._previous.rename(self.snapshot)

    def save(self, stack: DeployedStack, clients: Any, queues: bool = True) -> SnapshotSummary:
        """Write a new snapshot and swap it in; ``queues=False`` while functions still poll them."""
        with self._saving:
            self._recover()
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging.mkdir(parents=True)
            summary = SnapshotSummary(
                items=_save_tables(stack, clients.client("dynamodb"), self._staging / "dynamodb"),
                objects=_save_buckets(
                    stack, clients.client("s3"), self._staging / "s3", self.snapshot / "s3"
                ),
                messages=_save_queues(stack, clients.client("sqs"), self._staging / "sqs") if queues else 0,
                parameters=_save_parameters(clients.client("ssm"), self._staging / "ssm.json"),
            )
            manifest = {"stack": stack.name, **summary.__dict__, "queues": queues}
            # The manifest last: a folder without one is never taken for a snapshot.
            (self._staging / MANIFEST).write_text(json.dumps(manifest))
            shutil.rmtree(self._previous, ignore_errors=True)
            if self.snapshot.exists():
                self.snapshot.rename(self._previous)
            self._staging.rename(self.snapshot)
            shutil.rmtree(self._previous, ignore_errors=True)
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


class PeriodicSaver(BackgroundLoop):
    """Saves the running stack every ``interval_s`` seconds, when something may have changed since
    the last save (``touch`` says so: the stack calls it after each invocation)."""

    name = "state saver"

    def __init__(self, save: Callable[[], object], interval_s: float) -> None:
        super().__init__()
        self._save = save
        self.interval_s = interval_s
        self._changes = 0
        self._saved_changes = 0
        self.saves = 0

    def touch(self) -> None:
        self._changes += 1  # a lost increment from two threads at once is caught by the next one

    def step(self) -> None:
        if self.wait(self.interval_s):
            return
        changes = self._changes
        if changes == self._saved_changes:
            return
        self._save()
        self._saved_changes = changes
        self.saves += 1


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


def _save_buckets(stack: DeployedStack, s3: Any, folder: Path, last: Path) -> int:
    """Every object of every bucket; one unchanged since the last snapshot is linked from there,
    not downloaded again (the search index and pictures would otherwise be read every few seconds)."""
    count = 0
    for bucket in stack.of_type("AWS::S3::Bucket"):
        bucket_dir = folder / bucket.logical_id
        bucket_dir.mkdir(parents=True)
        saved = _saved_objects(last / bucket.logical_id)
        index = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.physical_id):
            for entry in page.get("Contents", []):
                blob = f"{count:08d}"
                version = f"{entry.get('ETag')}/{entry.get('Size')}/{entry.get('LastModified')}"
                before = saved.get(entry["Key"])
                if before is not None and before.get("version") == version:
                    _link(last / bucket.logical_id / before["blob"], bucket_dir / blob)
                    content_type, metadata = before.get("content_type"), before.get("metadata", {})
                else:
                    obj = s3.get_object(Bucket=bucket.physical_id, Key=entry["Key"])
                    (bucket_dir / blob).write_bytes(obj["Body"].read())
                    content_type, metadata = obj.get("ContentType"), obj.get("Metadata", {})
                index.append(
                    {
                        "key": entry["Key"],
                        "blob": blob,
                        "content_type": content_type,
                        "metadata": metadata,
                        "version": version,
                    }
                )
                count += 1
        (bucket_dir / "index.json").write_text(json.dumps(index))
    return count


def _saved_objects(bucket_dir: Path) -> dict[str, dict[str, Any]]:
    index = bucket_dir / "index.json"
    if not index.is_file():
        return {}
    return {
        entry["key"]: entry
        for entry in json.loads(index.read_text())
        if (bucket_dir / entry["blob"]).is_file()
    }


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the old snapshot's folder goes, the file stays
    except OSError:
        shutil.copyfile(source, target)


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
