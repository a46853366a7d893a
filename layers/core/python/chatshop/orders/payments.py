"""Payments: the shop's Stripe Payment Link and signing secret, and Stripe's webhook events.

The signing secret is kept as the WhatsApp token is: an SSM SecureString under the stage's secrets
path, written by the merchant's PUT and never shown back. An event is believed only when
``stripe.Webhook.construct_event`` verifies its ``Stripe-Signature`` over the raw body with the
shop's secret (and a recent timestamp); then ``checkout.session.completed`` (or a delayed payment's
``checkout.session.async_payment_succeeded``) whose ``client_reference_id`` is an order id marks that
order paid, conditionally on it still waiting for payment, and keeps which order its payment intent
paid. A ``charge.refunded`` event names only that payment intent: a charge refunded in full (from
Stripe's dashboard or API) moves its order to refunded, as the merchant's own transition would; a
partial refund is logged and changes nothing, since an order is refunded whole or not at all. Stripe's
event id is kept, so a replayed event changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.errors import BadRequest, NotFound
from chatshop.platform.observability import get_logger
from chatshop.shops.domain import Shop, Url

from .lifecycle import IllegalTransition
from .service import Orders

PROVIDER = "stripe"
SECRET_CACHE_S = 300
_PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
_REFUND_EVENT = "charge.refunded"

Outcome = Literal[
    "paid",
    "already_paid",
    "not_payable",
    "unknown_order",
    "unpaid",
    "amount_short",
    "refunded",
    "already_refunded",
    "partial_refund",
    "not_refundable",
    "ignored",
    "replay",
]


class InvalidSignature(BadRequest):
    code = "invalid_signature"
    default_message = "The Stripe-Signature header does not verify this body with the shop's signing secret."


class StripeConnect(BaseModel):
    """``PUT /shops/{shop_id}/payments/stripe``: the webhook endpoint's signing secret (``whsec_...``,
    from Stripe's dashboard) and the Payment Link customers pay through."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signing_secret: Annotated[
        str,
        StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=_-]{8,200}$"),
        Field(description="Never shown back."),
    ]
    payment_link: Url


class StripeConnection(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment: Literal["stripe_link"] = "stripe_link"
    payment_link: str
    signing_secret_set: bool = True
    webhook_path: str


class StripeSecrets:
    """Data access: the shops' Stripe signing secrets (SSM SecureString parameters)."""

    def __init__(self, settings: Settings) -> None:
        # As the token vault: powertools' parameters package is heavy to import; on first use only.
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        self._path = settings.secrets_path
        self._ssm = aws.client("ssm", settings)
        self._provider = SSMProvider(boto3_client=self._ssm)

    def parameter_name(self, shop_id: str) -> str:
        return f"{self._path}/stripe/{shop_id}/signing-secret"

    def store(self, shop_id: str, secret: str) -> None:
        self._ssm.put_parameter(
            Name=self.parameter_name(shop_id), Value=secret, Type="SecureString", Overwrite=True
        )
        self._provider.clear_cache()

    def secret(self, shop_id: str, fresh: bool = False) -> str | None:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._provider.get(
                self.parameter_name(shop_id), decrypt=True, max_age=SECRET_CACHE_S, force_fetch=fresh
            )
        except GetParameterError as exc:
            if "ParameterNotFound" in str(exc) or isinstance(
                exc.__cause__, self._ssm.exceptions.ParameterNotFound
            ):
                return None
            raise
        return str(value)


def connect_stripe(secrets: StripeSecrets, shop: Shop, request: StripeConnect) -> dict[str, Any]:
    """Keep the secret, and the shop's changes (payment by the link) for the caller to store."""
    secrets.store(shop.id, request.signing_secret)
    return {"payment": "stripe_link", "payment_link": request.payment_link}


class StripeReceipt(BaseModel):
    """What the webhook answers Stripe: received, and what the event did."""

    received: bool = True
    outcome: Outcome


@dataclass(frozen=True)
class Received:
    event_id: str
    outcome: Outcome
    order_id: str | None = None


def verified_event(
    secrets: StripeSecrets, shop_id: str, body: bytes, signature: str | None
) -> dict[str, Any]:
    """The event as plain data, if Stripe signed exactly this body with the shop's secret (within
    the library's tolerance of five minutes); else InvalidSignature."""
    import stripe

    secret = secrets.secret(shop_id)
    if secret is None:
        # No Stripe webhook was set up for this shop: nothing here to deliver to.
        raise NotFound("This shop takes no Stripe payments; PUT /shops/{shop_id}/payments/stripe first.")
    try:
        event = stripe.Webhook.construct_event(body, signature, secret).to_dict()
    except stripe.SignatureVerificationError:
        # Maybe the merchant rotated the secret within the cache's lifetime: ask SSM once more.
        fresh = secrets.secret(shop_id, fresh=True)
        if fresh is None or fresh == secret:
            raise InvalidSignature() from None
        try:
            event = stripe.Webhook.construct_event(body, signature, fresh).to_dict()
        except stripe.SignatureVerificationError:
            raise InvalidSignature() from None
        except ValueError:
            raise BadRequest("The body is not a Stripe event.") from None
    except ValueError:
        raise BadRequest("The body is not a Stripe event.") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
        raise BadRequest("The body is not a Stripe event: it has no id.")
    return event


def receive_stripe_event(orders: Orders, shop: Shop, event: dict[str, Any], now: datetime) -> Received:
    """Apply a verified event once: a replay (the same event id) changes nothing."""
    event_id = str(event["id"])
    if orders.store.payment_event_seen(PROVIDER, event_id):
        return Received(event_id, "replay")
    outcome, order_id = _apply(orders, shop, event, now)
    orders.store.record_payment_event(PROVIDER, event_id, shop.id, outcome)
    get_logger().info(
        "Stripe event received",
        extra={"event_id": event_id, "type": event.get("type"), "outcome": outcome, "order_id": order_id},
    )
    return Received(event_id, outcome, order_id)


def _apply(orders: Orders, shop: Shop, event: dict[str, Any], now: datetime) -> tuple[Outcome, str | None]:
    data = event.get("data")
    subject = data.get("object") if isinstance(data, dict) else None
    if event.get("type") in _PAID_EVENTS:
        return _paid(orders, shop, subject, now)
    if event.get("type") == _REFUND_EVENT:
        return _refunded(orders, shop, subject, now)
    return "ignored", None


def _paid(orders: Orders, shop: Shop, session: Any, now: datetime) -> tuple[Outcome, str | None]:
    order_id = session.get("client_reference_id") if isinstance(session, dict) else None
    if not isinstance(order_id, str) or not order_id:
        return "unknown_order", None
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return "unpaid", order_id  # a delayed method: its async_payment_succeeded comes later
    try:
        order = orders.get(shop, str(order_id))
    except NotFound:
        return "unknown_order", str(order_id)
    amount, currency = session.get("amount_total"), session.get("currency")
    if (
        isinstance(amount, int)
        and isinstance(currency, str)
        and currency.upper() == order.total.currency
        and amount < order.total.amount
    ):
        get_logger().warning(
            "Stripe payment below the order's total; not marked paid",
            extra={"order_id": order.id, "paid": amount, "total": order.total.amount},
        )
        return "amount_short", order.id
    intent = session.get("payment_intent")
    if isinstance(intent, str) and intent:
        orders.store.record_payment_order(PROVIDER, intent, shop.id, order.id)
    if order.status == "paid":
        return "already_paid", order.id
    try:
        reference = str(session["id"]) if session.get("id") else None
        orders.move(shop, order.id, "paid", by="payment", now=now, payment_reference=reference, order=order)
    except IllegalTransition:
        # Cancelled (its reservation ran out) before the money came: the merchant refunds it.
        get_logger().warning(
            "Stripe payment for an order that is no longer payable",
            extra={"order_id": order.id, "status": order.status},
        )
        return "not_payable", order.id
    return "paid", order.id


def _refunded(orders: Orders, shop: Shop, charge: Any, now: datetime) -> tuple[Outcome, str | None]:
    intent = charge.get("payment_intent") if isinstance(charge, dict) else None
    paid = orders.store.payment_order(PROVIDER, intent) if isinstance(intent, str) and intent else None
    if paid is None or paid[0] != shop.id:
        return "unknown_order", None
    order_id = paid[1]
    if charge.get("refunded") is not True:
        get_logger().warning(
            "Stripe refunded part of an order's payment; the order is left as it is",
            extra={
                "order_id": order_id,
                "refunded": charge.get("amount_refunded"),
                "paid": charge.get("amount"),
            },
        )
        return "partial_refund", order_id
    try:
        order = orders.get(shop, order_id)
    except NotFound:
        return "unknown_order", order_id
    already = order.status == "refunded"
    try:
        # Asked again for its status, the move tells the listeners again (their own writes are once).
        orders.move(shop, order.id, "refunded", by="payment", now=now, order=order)
    except IllegalTransition:
        # Never paid here (a payment on delivery shipped unpaid), or the order is in a state with
        # nothing to give back: the money moved on Stripe's side alone.
        get_logger().warning(
            "Stripe refunded a payment for an order that cannot be refunded",
            extra={"order_id": order.id, "status": order.status},
        )
        return "not_refundable", order.id
    return ("already_refunded" if already else "refunded"), order.id
