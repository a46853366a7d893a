"""The embedded AWS behaves as AWS does where moto alone would not: empty uploads, concurrent receives."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.config import Config

from chatshop_local.emulator import EMULATOR_CREDENTIALS, MotoServer, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emulator():
    server = MotoServer(free_port())
    server.start()
    yield server
    server.stop()


def client_of(server: MotoServer, service: str):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(
            s3={"addressing_style": "path"},
            read_timeout=5,
            retries={"max_attempts": 1},
            max_pool_connections=16,
        ),
    )


@pytest.fixture(scope="module")
def s3(emulator):
    client = client_of(emulator, "s3")
    client.create_bucket(Bucket="uploads-bucket")
    return client


@pytest.mark.parametrize("body", [b"", b"x", b"y" * 70_000], ids=["empty", "one-byte", "70-kB"])
def test_an_upload_is_stored_whatever_its_size(s3, body):
    # When boto3 uploads (it sends Expect: 100-continue, even for an empty body)
    s3.put_object(Bucket="uploads-bucket", Key=f"object-{len(body)}", Body=body)

    # Then the object is there, byte for byte
    stored = s3.get_object(Bucket="uploads-bucket", Key=f"object-{len(body)}")["Body"].read()
    assert stored == body


@pytest.fixture(scope="module")
def sqs(emulator):
    return client_of(emulator, "sqs")


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_concurrent_receivers_never_get_the_same_message(sqs, fifo):
    # Given a queue of 300 messages (in 30 conversations, for the FIFO queue)
    name, attributes = (f"work-{fifo}.fifo", {"FifoQueue": "true"}) if fifo else (f"work-{fifo}", {})
    url = sqs.create_queue(QueueName=name, Attributes={**attributes, "VisibilityTimeout": "60"})["QueueUrl"]
    for start in range(0, 300, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
        if fifo:
            entries = [
                {**e, "MessageGroupId": f"g{start // 10}", "MessageDeduplicationId": e["MessageBody"]}
                for e in entries
            ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)

    # When eight pollers receive at once until the queue is empty (nothing is deleted or let go)
    received: list[str] = []
    lock = threading.Lock()

    def poll() -> None:
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            if not messages:
                return
            with lock:
                received.extend(m["Body"] for m in messages)

    pollers = [threading.Thread(target=poll) for _ in range(8)]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join(timeout=60)

    # Then every message was received exactly once
    assert sorted(received) == sorted(f"m{n}" for n in range(300))
