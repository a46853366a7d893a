"""Webhook function: Meta's WhatsApp webhooks in. Verify, keep, queue, answer 200; work later."""

from __future__ import annotations

from functools import cached_property

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Response

from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.inbound_queue import InboundQueue
from chatshop.messaging.intake import answer_handshake, receive_webhook, require_body
from chatshop.messaging.relay import RELAYED_HEADER, WebhookRelay, parse_peers
from chatshop.messaging.webhook import SIGNATURE_HEADER
from chatshop.messaging.webhook_archive import WebhookArchive
from chatshop.messaging.webhook_secrets import WebhookSecretsSource
from chatshop.platform.config import Settings, load_settings
from chatshop.platform.http import create_app, current_request
from chatshop.platform.observability import get_logger, get_metrics

settings = load_settings()
app = create_app("webhook")
logger = get_logger()
metrics = get_metrics()


class Dependencies:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def secrets(self) -> WebhookSecretsSource:
        return WebhookSecretsSource(self.settings)

    @cached_property
    def archive(self) -> WebhookArchive:
        return WebhookArchive(self.settings)

    @cached_property
    def channels(self) -> ChannelStore:
        return ChannelStore(self.settings)

    @cached_property
    def queue(self) -> InboundQueue:
        return InboundQueue(self.settings)

    @cached_property
    def relay(self) -> WebhookRelay:
        region = self.settings.region
        return WebhookRelay(region, parse_peers(self.settings.webhook_peers, region))


deps = Dependencies(settings)


@app.route("/webhooks/whatsapp", methods=["GET"])
def handshake() -> Response:
    challenge = answer_handshake(current_request().query_params or {}, deps.secrets.load())
    return Response(body=challenge, status_code=200, headers={"Content-Type": "text/plain"})


@app.route("/webhooks/whatsapp", methods=["POST"])
def receive() -> Response:
    request = current_request()
    result = receive_webhook(
        require_body(request.raw_body),
        request.headers.get(SIGNATURE_HEADER.lower()),
        deps.secrets.load(),
        deps.archive,
        deps.channels,
        deps.queue,
        deps.relay,
        relayed_from=request.headers.get(RELAYED_HEADER.lower()),
    )
    if result.unrouted:
        # Counted so a number connected to no shop is noticed.
        metrics.add_metric(name="UnroutedWebhookUnits", unit=MetricUnit.Count, value=result.unrouted)
        metrics.flush_metrics()
    logger.info(
        "Webhook received",
        extra={
            "queued": result.queued,
            "unrouted": result.unrouted,
            "unreadable": result.unreadable,
            "relayed_to": result.relayed_to,
        },
    )
    return Response(
        body={"status": "received"}, status_code=200, headers={"Content-Type": "application/json"}
    )
