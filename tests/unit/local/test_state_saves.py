"""Saving the embedded AWS's data while the stack runs: snapshots swapped in whole, queues left alone,
unchanged objects not read again, and a save only when something may have changed.

The AWS is a moto server on loopback; the stack is three resources made in it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from chatshop_local.aws import EmulatorClients
from chatshop_local.deploy import DeployedResource, DeployedStack
from chatshop_local.emulator import free_port
from chatshop_local.state import PeriodicSaver, StateStore

REGION = "us-east-1"


@pytest.fixture(scope="module")
def emulator():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def stack(emulator):
    suffix = uuid.uuid4().hex[:8]
    clients = EmulatorClients(emulator, REGION)
    table, bucket = f"items-{suffix}", f"media-{suffix}"
    clients.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    clients.client("s3").create_bucket(Bucket=bucket)
    queue = clients.client("sqs").create_queue(QueueName=f"jobs-{suffix}")["QueueUrl"]
    resources = {
        "Items": DeployedResource("Items", "AWS::DynamoDB::Table", table),
        "Media": DeployedResource("Media", "AWS::S3::Bucket", bucket),
        "Jobs": DeployedResource("Jobs", "AWS::SQS::Queue", queue),
    }
    return DeployedStack("chatshop", REGION, "123456789012", resources, {}, {}), clients


def put_item(clients: EmulatorClients, stack: DeployedStack, pk: str) -> None:
    clients.client("dynamodb").put_item(TableName=stack.physical_id("Items"), Item={"pk": {"S": pk}})


def saved_keys(state_dir: Path) -> set[str]:
    lines = (state_dir / "snapshot" / "dynamodb" / "Items.jsonl").read_text().splitlines()
    return {json.loads(line)["pk"]["S"] for line in lines}


def test_a_running_save_leaves_the_queue_to_its_pollers(stack, tmp_path):
    deployed, clients = stack
    sqs = clients.client("sqs")
    sqs.send_message(QueueUrl=deployed.physical_id("Jobs"), MessageBody="job")
    put_item(clients, deployed, "a")

    summary = StateStore(tmp_path).save(deployed, clients, queues=False)

    assert (summary.items, summary.messages) == (1, 0)
    # The job is still there for the function that polls the queue, never received by the save
    received = sqs.receive_message(QueueUrl=deployed.physical_id("Jobs"), AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in received] == ["job"]
    assert received[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert json.loads((tmp_path / "snapshot" / "manifest.json").read_text())["queues"] is False


def test_unchanged_objects_are_linked_from_the_last_snapshot(stack, tmp_path):
    deployed, clients = stack
    s3, bucket = clients.client("s3"), deployed.physical_id("Media")
    s3.put_object(Bucket=bucket, Key="kept.jpg", Body=b"kept", ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key="changed.txt", Body=b"before")
    store = StateStore(tmp_path)
    store.save(deployed, clients, queues=False)
    kept_before = blob(tmp_path, "kept.jpg")

    s3.put_object(Bucket=bucket, Key="changed.txt", Body=b"after")
    store.save(deployed, clients, queues=False)

    # The same file (one inode, not a copy downloaded again), its type remembered
    assert blob(tmp_path, "kept.jpg").stat().st_ino == kept_before.stat().st_ino
    assert blob(tmp_path, "kept.jpg").read_bytes() == b"kept"
    assert blob(tmp_path, "changed.txt").read_bytes() == b"after"
    index = {
        e["key"]: e for e in json.loads((tmp_path / "snapshot" / "s3" / "Media" / "index.json").read_text())
    }
    assert index["kept.jpg"]["content_type"] == "image/jpeg"


def blob(state_dir: Path, key: str) -> Path:
    folder = state_dir / "snapshot" / "s3" / "Media"
    entry = next(e for e in json.loads((folder / "index.json").read_text()) if e["key"] == key)
    return folder / entry["blob"]


def test_a_process_killed_between_the_renames_leaves_the_previous_snapshot(stack, tmp_path, emulator):
    deployed, clients = stack
    put_item(clients, deployed, "saved")
    StateStore(tmp_path).save(deployed, clients, queues=False)
    # Given a process that died after moving the last snapshot aside, before putting the new one in place
    (tmp_path / "snapshot").rename(tmp_path / "snapshot.previous")
    (tmp_path / "snapshot.partial").mkdir()  # and a half-written one

    # Then the next start finds the last complete snapshot, and restores it
    store = StateStore(tmp_path)
    assert store.has_snapshot()
    clients.client("dynamodb").delete_item(
        TableName=deployed.physical_id("Items"), Key={"pk": {"S": "saved"}}
    )
    assert store.restore(deployed, clients).items == 1
    assert saved_keys(tmp_path) == {"saved"}
    # And a save after that replaces it as usual
    put_item(clients, deployed, "later")
    store.save(deployed, clients, queues=False)
    assert saved_keys(tmp_path) == {"saved", "later"}
    assert not (tmp_path / "snapshot.previous").exists() and not (tmp_path / "snapshot.partial").exists()


def test_the_saver_saves_only_after_a_change():
    saved = threading.Event()
    calls: list[float] = []

    def save() -> None:
        calls.append(time.monotonic())
        saved.set()

    saver = PeriodicSaver(save, interval_s=0.02)
    saver.start()
    try:
        # Nothing changed: several intervals pass without a save
        time.sleep(0.2)
        assert calls == []
        # A change: saved at the next interval, once
        saver.touch()
        assert saved.wait(5)
        time.sleep(0.2)
        assert len(calls) == 1 and saver.saves == 1
    finally:
        saver.stop()
        saver.join()
