"""The emulator's queue attributes answer exactly what moto's own getter answers."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue, sqs_backends

from chatshop_local.emulator_sqs import _QueueAttributes

_moto_attributes = Queue.attributes.fget


@pytest.fixture
def queues(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sqs = boto3.client("sqs")
        dlq = sqs.create_queue(QueueName="dead.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
        dlq_arn = arn["Attributes"]["QueueArn"]
        fifo = sqs.create_queue(
            QueueName="work.fifo",
            Attributes={
                "FifoQueue": "true",
                "ContentBasedDeduplication": "true",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
                "KmsMasterKeyId": "alias/chatshop",
            },
        )["QueueUrl"]
        plain = sqs.create_queue(
            QueueName="plain", Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": []})}
        )["QueueUrl"]
        sqs.send_message(QueueUrl=plain, MessageBody="visible")
        sqs.send_message(QueueUrl=plain, MessageBody="delayed", DelaySeconds=60)
        sqs.send_message(QueueUrl=fifo, MessageBody="one", MessageGroupId="g")
        sqs.receive_message(QueueUrl=fifo, VisibilityTimeout=60)
        yield sqs, list(sqs_backends["123456789012"]["us-east-1"].queues.values())


def test_every_attribute_of_every_kind_of_queue_equals_motos(queues):
    # Given FIFO (with redrive, KMS, content deduplication) and standard queues holding messages
    _, all_queues = queues

    for queue in all_queues:
        # When the attributes are read through the emulator's mapping
        cheap = _QueueAttributes(queue)

        # Then every name and value is moto's, the message counts included
        assert dict(cheap) == _moto_attributes(queue), queue.name
        assert ("ContentBasedDeduplication" in cheap) == queue.fifo_queue
        assert cheap.get("NoSuchAttribute") is None


def test_counts_follow_the_queue(queues):
    _, all_queues = queues
    plain = next(queue for queue in all_queues if queue.name == "plain")

    cheap = _QueueAttributes(plain)

    assert cheap["ApproximateNumberOfMessages"] == 1
    assert cheap["ApproximateNumberOfMessagesDelayed"] == 1
