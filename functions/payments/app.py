"""Payments webhook function: Stripe's events in, verified against the shop's signing secret.

The work is one conditional write on the order (and its update queued for the customer), so it is
done here rather than queued: Stripe retries an event that was not answered 2xx for three days,
and a replay changes nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property

from chalice import Response

from chatshop.ads.order_paid import OrderPaidQueue
from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.orders.notify import Notifier
from chatshop.orders.order_store import OrderStore
from chatshop.orders.payments import StripeReceipt, StripeSecrets, receive_stripe_event, verified_event
from chatshop.orders.service import Orders
from chatshop.platform.config import Settings, load_settings
from chatshop.platform.errors import NotFound
from chatshop.platform.http import create_app, current_request
from chatshop.shops.shop_store import ShopStore

settings = load_settings()
app = create_app("payments")

SIGNATURE_HEADER = "stripe-signature"


class Dependencies:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def shops(self) -> ShopStore:
        return ShopStore(self.settings)

    @cached_property
    def secrets(self) -> StripeSecrets:
        return StripeSecrets(self.settings)

    @cached_property
    def orders(self) -> Orders:
        notifier = Notifier(ConversationStore(self.settings), OutboundQueue(self.settings))
        # A paid order is credited to the ad that brought it, where Shop Ads runs.
        return Orders(OrderStore(self.settings), notifier, OrderPaidQueue.where_deployed(self.settings))


deps = Dependencies(settings)


@app.route("/webhooks/stripe/{shop_id}", methods=["POST"])
def stripe_event(shop_id: str) -> Response:
    request = current_request()
    shop = deps.shops.get(shop_id)
    if shop is None:
        raise NotFound(f"No shop {shop_id}.")
    event = verified_event(deps.secrets, shop.id, request.raw_body, request.headers.get(SIGNATURE_HEADER))
    received = receive_stripe_event(deps.orders, shop, event, datetime.now(UTC))
    return Response(
        body=StripeReceipt(outcome=received.outcome).model_dump(mode="json"),
        status_code=200,
        headers={"Content-Type": "application/json"},
    )
