"""Orders credited to campaigns: when an order is paid, its conversion and revenue go into the
campaign's hourly counters (the report's ``conversions``, ``revenue`` and ROAS), and an order that a
Meta click-to-WhatsApp ad brought is reported to Meta's Conversions API, where the customer consented.

The orders context knows nothing of ads: it tells a listener that an order was paid
(``chatshop.orders.service.PaidListener``), and :class:`OrderPaidQueue` is that listener, putting an
:class:`OrderPaid` (the shop and order ids, nothing personal) on the ad-events queue. The ad-events
worker then reads the order back through the orders context and :class:`ConversionRecorder` credits it.

What credits an order to a campaign: the conversation it was placed in was opened by a click on the
campaign's ``messages`` ad (the chat's first message carried the campaign's link code,
``chatshop.ads.chat_links``), and the order was placed within the shop's attribution window from
that first contact (the order's ``attribution``, fixed when it was placed). Last touch: a chat has
one source, so an order is credited to one campaign at most.

Counted once: the conversion's record ``pk=CONVERSION#<order_id>`` is put conditionally in the same
transaction as the counter update, so a paid event delivered twice, or an order paid once by
Stripe and once more by the merchant, adds nothing the second time. The counters are those of the
hour the order was paid in (UTC), beside that hour's impressions, clicks and spend.

A refund takes the credit back, once: the conversion's record is marked ``reversed_at`` in the same
transaction as the counters of the hour it was credited in go down by one conversion and its revenue,
so the report of that period, and its ROAS, no longer count a sale the shop gave back, and a
redelivered refund finds the mark and changes nothing. A refund that reaches the worker before its
order's paid event leaves the mark on its own, and the credit that comes after it is refused by the
record's condition, as a duplicate is; a refunded order read by a late paid event is not credited.

Meta's ``Purchase`` goes out only for an order with a ``ctwa_clid`` (a Meta ad's referral), of a
customer whose ad user key (``chat_user_key``) holds consent to personalised ads and is not flagged
a minor, through the shop's WhatsApp connection with a ``dataset_id``; once (``pk=CAPI#<order_id>``
after Meta took it; the order id is also the event id Meta deduplicates on).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.observability import get_logger

from .campaign_store import CampaignStore, campaign_key
from .chat_links import campaign_of_code
from .conversions import CreditedOrder, ctwa_purchase, send_purchase
from .domain import Campaign
from .order_paid import OrderPaid, OrderPaidQueue, OrderRefunded
from .spend import stats_hour

__all__ = [
    "ConversionRecorder",
    "Credit",
    "MetaPurchases",
    "OrderPaid",
    "OrderPaidQueue",
    "OrderRefunded",
    "Reversal",
    "credited_campaign",
]

# A paid event can come again for as long as its producer retries (Stripe: three days); the record
# that it was counted is kept well past that.
CONVERSION_RECORD_TTL = timedelta(days=90)
_PAGE = 100
_REVERSE_ATTEMPTS = 3


class PaidOrders(Protocol):
    """How the worker reads an order back (``chatshop.orders.order_store.OrderStore``)."""

    def get(self, shop_id: str, order_id: str) -> Any | None: ...


class Purchases(Protocol):
    def send(self, order: Any, now: datetime) -> bool:
        """Report the order's purchase to Meta where it may be; whether one was sent."""


class Credit(enum.StrEnum):
    CREDITED = "credited"  # counted as the campaign's conversion
    DUPLICATE = "duplicate"  # counted before
    UNCREDITED = "uncredited"  # no campaign brought it
    NOT_PAID = "not_paid"  # unknown, or not (or no longer) paid


def credited_campaign(order: CreditedOrder, campaigns: list[Campaign]) -> Campaign | None:
    """The shop's campaign the order is credited to: the one whose link opened its chat."""
    source = order.attribution or {}
    code = source.get("id")
    if source.get("kind") != "link" or not isinstance(code, str):
        return None
    return campaign_of_code(campaigns, code)


class Reversal(enum.StrEnum):
    REVERSED = "reversed"  # the campaign's conversion and revenue taken back
    BARRED = "barred"  # refunded before it was credited: marked, so it never will be
    DUPLICATE = "duplicate"  # taken back before
    UNCREDITED = "uncredited"  # no campaign brought it
    NOT_REFUNDED = "not_refunded"  # unknown, or not refunded


@dataclass(frozen=True)
class Outcome:
    credit: Credit
    campaign_id: str | None = None
    purchase_sent: bool = False


class ConversionRecorder:
    def __init__(
        self,
        settings: Settings,
        orders: PaidOrders,
        campaigns: CampaignStore | None = None,
        purchases: Purchases | None = None,
    ) -> None:
        self.table = settings.require("ads_table")
        self.client = aws.client("dynamodb", settings)
        self.orders = orders
        self.campaigns = campaigns or CampaignStore(settings)
        self.purchases = purchases

    def record(self, paid: OrderPaid, now: datetime | None = None) -> Outcome:
        now = now or datetime.now(UTC)
        order = self.orders.get(paid.shop_id, paid.order_id)
        if order is None or order.paid_at is None or order.status == "refunded":
            return Outcome(Credit.NOT_PAID)
        campaign = credited_campaign(order, self._campaigns_of(order.shop_id))
        credit = Credit.UNCREDITED if campaign is None else self._count(order, campaign, now)
        sent = self.purchases.send(order, now) if self.purchases is not None else False
        return Outcome(credit, campaign.id if campaign is not None else None, sent)

    def reverse(self, refunded: OrderRefunded, now: datetime | None = None) -> Reversal:
        """Take a refunded order's credit back from its campaign's counters, once."""
        now = now or datetime.now(UTC)
        order = self.orders.get(refunded.shop_id, refunded.order_id)
        if order is None or order.status != "refunded":
            return Reversal.NOT_REFUNDED
        campaign = credited_campaign(order, self._campaigns_of(order.shop_id))
        if campaign is None:
            return Reversal.UNCREDITED
        key = _conversion_key(order.id)
        for _ in range(_REVERSE_ATTEMPTS):
            item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            if item is None:
                if self._bar(order.id, campaign.id, now):
                    return Reversal.BARRED
                continue  # credited meanwhile: read it again and take it back
            if "reversed_at" in item:
                return Reversal.DUPLICATE
            if self._take_back(item, now):
                return Reversal.REVERSED
            return Reversal.DUPLICATE
        raise ReversalLost(order.id)

    def _bar(self, order_id: str, campaign_id: str, now: datetime) -> bool:
        """Mark a refund that came before its credit, so the credit is never counted; False if the
        credit won the race (its record is there now)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **_conversion_key(order_id),
                    "campaign_id": {"S": campaign_id},
                    "reversed_at": {"S": now.isoformat()},
                    "expires_at": {"N": str(int((now + CONVERSION_RECORD_TTL).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _take_back(self, item: dict[str, Any], now: datetime) -> bool:
        """The record marked reversed and its hour's counters down, in one transaction; False when
        another delivery of the refund did it first."""
        paid_at = datetime.fromisoformat(item["paid_at"]["S"])
        revenue = int(item.get("revenue", {}).get("N", "0"))
        writes = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": item["pk"], "sk": item["sk"]},
                    "UpdateExpression": "SET reversed_at = :now",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(reversed_at)",
                    "ExpressionAttributeValues": {":now": {"S": now.isoformat()}},
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {
                        "pk": {"S": campaign_key(item["campaign_id"]["S"])},
                        "sk": {"S": f"STATS#{stats_hour(paid_at)}"},
                    },
                    "UpdateExpression": "ADD conversions :less, revenue :revenue",
                    "ExpressionAttributeValues": {":less": {"N": "-1"}, ":revenue": {"N": str(-revenue)}},
                }
            },
        ]
        try:
            self.client.transact_write_items(TransactItems=writes)
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def _campaigns_of(self, shop_id: str) -> list[Campaign]:
        found: list[Campaign] = []
        cursor: str | None = None
        while True:
            page, cursor = self.campaigns.list(shop_id, _PAGE, cursor)
            found.extend(page)
            if cursor is None:
                return found

    def _count(self, order: Any, campaign: Campaign, now: datetime) -> Credit:
        # The campaign's money is the shop's, as the order's is; an order in another currency (the
        # shop changed it since) counts as a conversion without revenue rather than in wrong units.
        revenue = order.total.amount if order.total.currency == campaign.currency else 0
        paid_at = order.paid_at.astimezone(UTC)
        expires = int((now + CONVERSION_RECORD_TTL).timestamp())
        writes = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **_conversion_key(order.id),
                        "campaign_id": {"S": campaign.id},
                        "shop_id": {"S": order.shop_id},
                        "revenue": {"N": str(revenue)},
                        "paid_at": {"S": paid_at.isoformat()},
                        "expires_at": {"N": str(expires)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {
                        "pk": {"S": campaign_key(campaign.id)},
                        "sk": {"S": f"STATS#{stats_hour(paid_at)}"},
                    },
                    "UpdateExpression": "ADD conversions :one, revenue :revenue",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":revenue": {"N": str(revenue)}},
                }
            },
        ]
        try:
            self.client.transact_write_items(TransactItems=writes)
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return Credit.DUPLICATE
            raise
        return Credit.CREDITED


# --- Meta's Conversions API -------------------------------------------------------------------------


class _Channels(Protocol):
    def for_shop(self, shop_id: str) -> Any | None: ...


class _Tokens(Protocol):
    def token(self, phone_number_id: str) -> str | None: ...


class _Users(Protocol):
    def load_user(self, user_key: str | None, now: datetime | None = None) -> Any: ...


class _Graph(Protocol):
    def send_events(self, dataset_id: str, token: str, events: list[dict[str, Any]]) -> Any: ...


class MetaPurchases:
    """:class:`Purchases` through the shop's WhatsApp connection, under the customer's consent."""

    def __init__(
        self,
        settings: Settings,
        channels: _Channels,
        tokens: _Tokens,
        users: _Users,
        graph: _Graph,
        user_key_secret: Any,
    ) -> None:
        self.table = settings.require("ads_table")
        self.client = aws.client("dynamodb", settings)
        self._channels = channels
        self._tokens = tokens
        self._users = users
        self._graph = graph
        # A callable, so the secret is read only when an order of an ad comes.
        self._secret = user_key_secret

    def send(self, order: Any, now: datetime) -> bool:
        from .users import chat_user_key

        if not (order.attribution or {}).get("ctwa_clid") or not order.customer_wa_id:
            return False  # no Meta ad's click to report it against
        channel = self._channels.for_shop(order.shop_id)
        dataset_id = getattr(channel, "dataset_id", None) if channel is not None else None
        if channel is None or not dataset_id:
            return False
        user = self._users.load_user(chat_user_key(order.customer_wa_id, self._secret()), now)
        if not user.personalised:
            return False  # measurement with Meta is personalised advertising: only with consent
        purchase = ctwa_purchase(order, channel.waba_id)
        if purchase is None or self._sent_before(order.id):
            return False
        token = self._tokens.token(channel.phone_number_id)
        if token is None:
            get_logger().warning(
                "No access token for the shop's number: purchase not sent", extra={"order_id": order.id}
            )
            return False
        answer = send_purchase(self._graph, dataset_id, token, purchase, now)  # type: ignore[arg-type]
        if answer is None:
            return False  # older than Meta takes
        if answer.status >= 500 or answer.status == 429:
            raise PurchaseNotSent(answer.status)  # the message is tried again
        if not answer.ok:
            # Refused for good (a bad token, a dataset of another account): retrying changes nothing.
            get_logger().warning(
                "Meta refused the purchase", extra={"order_id": order.id, "status": answer.status}
            )
            return False
        self._mark_sent(order.id, now)
        return True

    def _sent_before(self, order_id: str) -> bool:
        item = self.client.get_item(TableName=self.table, Key=_capi_key(order_id), ConsistentRead=True).get(
            "Item"
        )
        return item is not None

    def _mark_sent(self, order_id: str, now: datetime) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                **_capi_key(order_id),
                "sent_at": {"S": now.isoformat()},
                "expires_at": {"N": str(int((now + CONVERSION_RECORD_TTL).timestamp()))},
            },
        )


def _conversion_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CONVERSION#{order_id}"}, "sk": {"S": "CONVERSION"}}


class ReversalLost(Exception):
    """The conversion's record kept changing under the reversal; the refund message is retried."""


class PurchaseNotSent(Exception):
    """Meta could not take the purchase now (5xx, 429); the paid message is retried."""


def _capi_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CAPI#{order_id}"}, "sk": {"S": "CAPI"}}
