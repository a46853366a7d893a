"""The orders context's paid listener where Shop Ads runs: a paid order's ids to the ad-events queue,
where the worker credits it (``chatshop.ads.attribution``), and a refunded one's, where the worker
takes the credit back. Light: the payment and merchant functions import it at their cold start."""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chatshop.platform import aws
from chatshop.platform.config import Settings

__all__ = ["OrderPaid", "OrderPaidQueue", "OrderRefunded"]

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^#]+$")]


class OrderPaid(BaseModel):
    """An order became paid: the message the ad-events worker credits it from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["order_paid"] = "order_paid"
    shop_id: Id
    order_id: Id


class OrderRefunded(BaseModel):
    """A paid order was refunded: the message the ad-events worker reverses its credit from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["order_refunded"] = "order_refunded"
    shop_id: Id
    order_id: Id


class _Shop(Protocol):
    id: str


class _Order(Protocol):
    id: str
    shop_id: str


class OrderPaidQueue:
    """The orders context's paid listener where Shop Ads is deployed: the order to the ad-events queue."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("ad_events_queue")
        self._sqs = aws.client("sqs", settings)

    @classmethod
    def where_deployed(cls, settings: Settings) -> OrderPaidQueue | None:
        """None in a region without Shop Ads (no queue): its orders are credited to nothing."""
        return cls(settings) if settings.ad_events_queue else None

    def order_paid(self, shop: _Shop, order: _Order) -> None:
        message = OrderPaid(shop_id=order.shop_id, order_id=order.id)
        self._sqs.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json())

    def order_refunded(self, shop: _Shop, order: _Order) -> None:
        message = OrderRefunded(shop_id=order.shop_id, order_id=order.id)
        self._sqs.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json())
