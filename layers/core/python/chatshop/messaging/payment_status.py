"""WhatsApp's payment status webhooks (payments in the chat, India and Brazil), parsed (pure).

Meta sends them as ``statuses[]`` items of ``type: "payment"`` for the order_details message the
customer paid: ``status`` captured / pending / failed, and ``payment`` with the bill's
``reference_id``, the amount (``value`` over ``offset``), the currency and the transaction. They
come through the webhook like every status, and the inbound worker hands them to the orders.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

PaymentState = Literal["captured", "pending", "failed"]


class PaymentStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: str | None = None
    reference_id: str
    status: PaymentState
    amount: int | None = None  # minor units (Meta's value over an offset of 100)
    currency: str | None = None
    transaction_id: str | None = None


def is_payment(body: dict[str, Any]) -> bool:
    status = body.get("status")
    return body.get("kind") == "status" and isinstance(status, dict) and status.get("type") == "payment"


def parse_payment(body: dict[str, Any]) -> PaymentStatus | None:
    """The payment status a status unit carries, or None when it is not one Meta would send."""
    if not is_payment(body):
        return None
    status: dict[str, Any] = body["status"]
    payment = status.get("payment") if isinstance(status.get("payment"), dict) else {}
    amount = payment.get("amount") if isinstance(payment.get("amount"), dict) else {}
    transaction = payment.get("transaction") if isinstance(payment.get("transaction"), dict) else {}
    value, offset = amount.get("value"), amount.get("offset")
    try:
        return PaymentStatus(
            message_id=status.get("id"),
            reference_id=payment.get("reference_id"),
            status=status.get("status"),
            # Minor units for the currencies WhatsApp takes (INR, BRL: offset 100, two decimals).
            amount=value if isinstance(value, int) and offset == 100 else None,
            currency=payment.get("currency"),
            transaction_id=transaction.get("id"),
        )
    except ValidationError:
        return None
