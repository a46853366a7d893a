"""Ad events: impressions and clicks from the event route, charged and counted once each, paid
orders, credited to the campaign that brought them, and refunded ones, whose credit is taken back
(SQS, partial batch failures). A message that cannot be read fails alone and ends in the dead-letter
queue."""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.ads.events import AdEvent, EventRecorder
from chatshop.ads.order_paid import OrderPaid, OrderRefunded
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

settings = load_settings()
logger = get_logger()


@cache
def recorder() -> EventRecorder:
    return EventRecorder(settings)


@cache
def conversions():  # noqa: ANN201 - made on the first paid order: most messages are ad events
    from chatshop.ads.attribution import ConversionRecorder, MetaPurchases
    from chatshop.ads.secrets import AdsSecrets
    from chatshop.ads.users import UserStore
    from chatshop.messaging.channel_store import ChannelStore
    from chatshop.messaging.graph_client import GraphClient
    from chatshop.messaging.token_vault import TokenVault
    from chatshop.orders.order_store import OrderStore

    secrets = AdsSecrets(settings)
    purchases = MetaPurchases(
        settings,
        ChannelStore(settings),
        TokenVault(settings),
        UserStore(settings),
        GraphClient(settings),
        secrets.user_key_secret,
    )
    return ConversionRecorder(settings, OrderStore(settings), purchases=purchases)


def handle_record(record: SQSRecord) -> None:
    kind = _order_message_type(record.body)
    if kind == "order_refunded":
        refunded = parse_message(record, OrderRefunded)
        reversal = conversions().reverse(refunded)
        logger.info("Refunded order's credit", extra={"order_id": refunded.order_id, "reversal": reversal})
        return
    if kind == "order_paid":
        paid = parse_message(record, OrderPaid)
        outcome = conversions().record(paid)
        logger.info(
            "Paid order credited",
            extra={
                "order_id": paid.order_id,
                "credit": outcome.credit,
                "campaign_id": outcome.campaign_id,
                "purchase_sent": outcome.purchase_sent,
            },
        )
        return
    event = parse_message(record, AdEvent)
    outcome = recorder().record(event)
    # The user key stays out of the log: the event id and the campaign say which event it was.
    logger.info(
        "Ad event handled",
        extra={
            "event_id": event.event_id,
            "kind": event.kind,
            "campaign_id": event.campaign_id,
            "outcome": outcome,
        },
    )


def _order_message_type(body: str) -> str | None:
    """``order_paid`` or ``order_refunded`` for an order's message; None for an ad event (no type)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    kind = parsed.get("type") if isinstance(parsed, dict) else None
    return kind if kind in ("order_paid", "order_refunded") else None


handler = sqs_batch_handler(handle_record)
