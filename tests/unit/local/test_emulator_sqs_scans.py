"""The emulator's cheap queue scans: the visible messages and the deletes that moto's own code gives."""

from __future__ import annotations

import sys
import threading

import boto3
import pytest
from moto import mock_aws
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Queue, sqs_backends

from chatshop_local.emulator_sqs import _QueueAttributes, delete_message, visible_messages

_moto_messages = Queue.messages.fget
_moto_delete = Queue.delete_message


def fill(sqs, name: str):
    """A queue holding visible, in-flight (received twice over) and delayed messages."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", DelaySeconds=60 if n % 5 == 4 else 0)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=0)["Messages"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)["Messages"]
    # An old handle (its message was received again since) and a current one
    handles = [first[0]["ReceiptHandle"], again[-1]["ReceiptHandle"]]
    return sqs_backends["123456789012"]["us-east-1"].queues[name], handles, first, again


@pytest.fixture
def queues(monkeypatch):
    """Two queues that went through the same sends and receives."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sqs = boto3.client("sqs")
        yield fill(sqs, "work"), fill(sqs, "twin")


def bodies(messages) -> list[str]:
    return sorted(message.body for message in messages)


def test_the_visible_messages_are_motos_in_order(queues):
    (work, _, _, again), _ = queues
    visible = visible_messages(work)
    assert [m.body for m in visible] == [m.body for m in _moto_messages(work)]
    # Neither the delayed nor the ones received with a visibility timeout are among them
    assert not {"m4", "m9"} & {m.body for m in visible}
    assert not {m["Body"] for m in again} & {m.body for m in visible}


def test_a_delete_leaves_the_queue_as_motos_leaves_it(queues):
    (work, handles, _, _), (twin, twin_handles, _, _) = queues

    for handle, twin_handle in zip(handles, twin_handles, strict=True):
        delete_message(work, handle)
        _moto_delete(twin, twin_handle)

    assert [m.body for m in work._messages] == [m.body for m in twin._messages]
    assert bodies(work.pending_messages) == bodies(twin.pending_messages)
    assert len(work.deleted_messages) == len(twin.deleted_messages) > 2  # every handle each message had
    assert len(work._messages) == 10


def test_deleting_again_is_harmless_and_an_unknown_handle_is_refused(queues):
    (work, _, first, _), _ = queues
    handle = first[1]["ReceiptHandle"]
    delete_message(work, handle)
    delete_message(work, handle)
    assert len(work._messages) == 11
    with pytest.raises(ReceiptHandleIsInvalid):
        delete_message(work, "no-such-handle")


def test_deletes_at_the_same_moment_each_find_their_message(monkeypatch):
    # Given a queue of many received messages, deleted by four pollers at once, switching threads
    # as often as the interpreter can (a delete that shifted the list under another's scan made
    # that one's handle look invalid, and its message came back)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # moto's own attributes count the queue on every send and receive: seconds for 600 messages
    monkeypatch.setattr(Queue, "attributes", property(_QueueAttributes))
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="busy")["QueueUrl"]
        for batch in range(60):
            entries = [{"Id": str(i), "MessageBody": f"{batch}-{i}"} for i in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        handles = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
            "Messages", []
        ):
            handles += [message["ReceiptHandle"] for message in got]
        busy = sqs_backends["123456789012"]["us-east-1"].queues["busy"]
        refused: list[str] = []

        def poller(share: list[str]) -> None:
            for handle in share:
                try:
                    delete_message(busy, handle)
                except ReceiptHandleIsInvalid:
                    refused.append(handle)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        try:
            pollers = [threading.Thread(target=poller, args=(handles[k::4],)) for k in range(4)]
            for thread in pollers:
                thread.start()
            for thread in pollers:
                thread.join()
        finally:
            sys.setswitchinterval(interval)

    # Then every handle deleted its message
    assert len(handles) == 600
    assert refused == []
    assert busy._messages == []
