"""The sender's logic: one queued message to Meta's Graph API, at most once, within Meta's limits.

A record is claimed (queued or retrying -> sending) before the call, so a redelivered job never
sends it again. Throughput limits and transient errors put the job back on the queue with a delay;
Meta's permanent errors are recorded on the message. Free-form messages outside the customer's
24-hour window are refused before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from .conversation_store import ConversationStore
from .graph_client import GraphAnswer, GraphClient
from .outbound import (
    OutboundValidationError,
    check_sendable,
    classify_graph_error,
    graph_body,
    parse_outbound,
)
from .outbound_queue import OutboundQueue
from .records import OutboundRecord, SendJob
from .token_vault import TokenVault

MESSAGES_PER_SECOND = 80  # per phone number: Meta's default throughput
_RATE_WAIT_S = 1

Outcome = Literal["accepted", "retrying", "failed", "throttled", "skipped"]


@dataclass(frozen=True)
class Sender:
    store: ConversationStore
    tokens: TokenVault
    graph: GraphClient
    queue: OutboundQueue

    def send(self, job: SendJob, now: datetime | None = None) -> Outcome:
        record = self.store.outbound(job.outbound_id)
        if record is None or record.status not in ("queued", "retrying"):
            return "skipped"  # gone, or already sent or settled: never twice
        now = now or datetime.now(UTC)
        try:
            message = parse_outbound(record.message)
            check_sendable(message, self.store.last_inbound_at(record.phone_number_id, record.to), now)
        except OutboundValidationError as exc:
            return self._fail(record, None, str(exc))
        if not self.store.take_send_slot(record.phone_number_id, MESSAGES_PER_SECOND):
            self.queue.send(job, delay_s=_RATE_WAIT_S)
            return "throttled"
        token = self.tokens.token(record.phone_number_id)
        if token is None:
            return self._fail(record, None, "The shop's number has no access token.")
        claimed = self.store.transition(
            record, ("queued", "retrying"), status="sending", attempts=job.attempt
        )
        if claimed is None:
            return "skipped"
        answer = self._call(claimed, token, graph_body(message, record.to, record.reply_to))
        return self._settle(claimed, job, answer)

    def _call(self, record: OutboundRecord, token: str, body: dict) -> GraphAnswer | None:
        try:
            return self.graph.send_message(record.phone_number_id, token, body)
        except ConnectionRefusedError:
            return GraphAnswer(503, {})  # nothing reached Meta: safe to try again
        except OSError:
            return None  # the request may have reached Meta: sending again could double it

    def _settle(self, record: OutboundRecord, job: SendJob, answer: GraphAnswer | None) -> Outcome:
        if answer is None:
            return self._fail(
                record, None, "The Graph API did not answer; the message may or may not have been sent."
            )
        if answer.ok and answer.message_id:
            self.store.link_wamid(answer.message_id, record.id)
            self.store.transition(record, ("sending",), status="accepted", wamid=answer.message_id)
            return "accepted"
        failure = classify_graph_error(answer.status, answer.error_code, job.attempt)
        if not failure.retry:
            return self._fail(record, answer.error_code, failure.permanent_reason or answer.error_message)
        self.store.transition(
            record, ("sending",), status="retrying", error_code=answer.error_code, error=answer.error_message
        )
        self.queue.send(SendJob(outbound_id=record.id, attempt=job.attempt + 1), delay_s=failure.delay_s)
        return "retrying"

    def _fail(self, record: OutboundRecord, code: int | None, reason: str) -> Outcome:
        self.store.transition(
            record, ("queued", "retrying", "sending"), status="failed", error_code=code, error=reason
        )
        return "failed"
