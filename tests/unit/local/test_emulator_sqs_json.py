"""The emulator's direct JSON answers to SQS's batch sends and deletes equal moto's own serializer's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from chatshop_local.emulator_server import install_direct_json, moto_serializer

AUTH = "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x"
JSON = "application/x-amz-json-1.0"


@pytest.fixture(scope="module")
def sqs():
    install_direct_json()
    client = Client(DomainDispatcherApplication(create_backend_app))

    def call(action: str, body: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
        headers = {"X-Amz-Target": f"AmazonSQS.{action}", "Content-Type": JSON, "Authorization": AUTH}
        response = client.post("/", headers=headers, data=json.dumps(body))
        return response.status_code, response.headers["Content-Type"], json.loads(response.data)

    return call


def queue(sqs, name: str, **attributes: str) -> str:
    return sqs("CreateQueue", {"QueueName": name, "Attributes": attributes})[2]["QueueUrl"]


SENDS = {
    "plain": [{"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two « deux »"}],
    "with attributes": [
        {
            "Id": "a",
            "MessageBody": "one",
            "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "index"}},
        }
    ],
    "one refused": [
        {"Id": "a", "MessageBody": "ok"},
        {"Id": "b", "MessageBody": "x", "DelaySeconds": 901},
    ],
}


def without_ids(answer: dict[str, Any]) -> dict[str, Any]:
    # Message ids are new on every send; everything else must be the same.
    for entry in answer.get("Successful", []):
        entry.pop("MessageId", None)
    return answer


@pytest.mark.parametrize("entries", SENDS.values(), ids=SENDS.keys())
@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_a_batch_send_is_answered_as_motos_serializer_answers(sqs, entries, fifo):
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    suffix = ".fifo" if fifo else ""
    group = {"MessageGroupId": "g"} if fifo else {}
    sent = [{**entry, **group} for entry in entries]
    direct = sqs(
        "SendMessageBatch", {"QueueUrl": queue(sqs, f"direct{suffix}", **attributes), "Entries": sent}
    )
    with moto_serializer():
        own = sqs("SendMessageBatch", {"QueueUrl": queue(sqs, f"own{suffix}", **attributes), "Entries": sent})
    # (A FIFO queue refuses a whole batch with a delay: moto's error answer, on either side.)
    assert (
        direct[:2]
        == own[:2]
        == ((400, JSON) if fifo and any("DelaySeconds" in e for e in entries) else (200, JSON))
    )
    assert without_ids(direct[2]) == without_ids(own[2])


def test_a_batch_delete_is_answered_as_motos_serializer_answers(sqs):
    answers = []
    for name in ("deletes-direct", "deletes-own"):
        url = queue(sqs, name)
        sqs("SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "one"}]})
        (message,) = sqs("ReceiveMessage", {"QueueUrl": url})[2]["Messages"]
        entries = [
            {"Id": "a", "ReceiptHandle": message["ReceiptHandle"]},
            {"Id": "b", "ReceiptHandle": "nope"},
        ]
        if name == "deletes-own":
            with moto_serializer():
                answers.append(sqs("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries}))
        else:
            answers.append(sqs("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries}))
    direct, own = answers
    assert direct == own
    assert direct[2]["Successful"] == [{"Id": "a"}] and direct[2]["Failed"][0]["Id"] == "b"
