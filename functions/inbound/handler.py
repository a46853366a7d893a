"""Inbound worker: each unit from the FIFO queue, in conversation order (partial failures).

Webhook units (what customers send, what Meta says of our messages), the question worker's
answers and agents' acts all come this way; the assistant answers the customers.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

# Loaded before anything imports pydantic: powertools' batch module builds its pydantic parser models
# (a tenth of this cold start) only when pydantic is already loaded (batch/types.py reads
# sys.modules), and our batch handlers pass it no model.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.assistant.state_store import StateStore
from chatshop.assistant.worker import InboundWorker, OutboxReplies
from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.graph_client import GraphClient
from chatshop.messaging.media_fetch import MediaBucketWriter, MediaFetcher
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.photo_queue import PhotoSearchQueue
from chatshop.messaging.token_vault import TokenVault
from chatshop.platform.batch import sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

if TYPE_CHECKING:
    from chatshop.ads.secrets import AdsSecrets
    from chatshop.assistant.dialogue import Assistant
    from chatshop.orders.checkout import Checkout
    from chatshop.privacy.chat import ChatConsents
    from chatshop.privacy.chat_requests import ChatDataRequests

settings = load_settings()
logger = get_logger()


@cache
def worker() -> InboundWorker:
    store, outbox, states = ConversationStore(settings), OutboundQueue(settings), StateStore(settings)
    media = MediaFetcher(GraphClient(settings), TokenVault(settings), MediaBucketWriter(settings))
    # Without a photo search queue (search not deployed here), a photo is answered like any message.
    photos = PhotoSearchQueue(settings) if settings.photo_search_queue else None
    return InboundWorker(
        store, outbox, media, photos, states, cache(lambda: assistant(store, outbox, states))
    )


def assistant(store: ConversationStore, outbox: OutboundQueue, states: StateStore) -> Assistant:
    """Made when a message first needs an answer: a container that only sees Meta's statuses (most of
    what comes in) never loads the catalog's stores."""
    from chatshop.assistant.dialogue import Assistant
    from chatshop.assistant.directory import ShopDirectory
    from chatshop.assistant.orders_port import CheckoutOrders
    from chatshop.assistant.queues import QuestionQueue
    from chatshop.recruiting.desk import RecruitingDesk

    return Assistant(
        states=states,
        catalogs=ShopDirectory(settings),
        replies=OutboxReplies(store, outbox),
        questions=QuestionQueue(settings),
        agent_quiet=timedelta(minutes=settings.agent_quiet_minutes),
        orders=CheckoutOrders(_checkout),
        data_requests=_data_requests(),
        recruits=RecruitingDesk(settings),
        ad_consents=_ad_consents(),
    )


def _ad_consents() -> ChatConsents | None:
    """Consent to personalised ads from the chat, where Shop Ads is deployed (its table)."""
    if not settings.ads_table:
        return None
    from chatshop.privacy.chat import ChatConsents
    from chatshop.privacy.consent_store import ConsentStore

    return ChatConsents(ConsentStore(settings), _ads_secrets().user_key_secret)


def _data_requests() -> ChatDataRequests | None:
    """ "Export my data" and "delete my data" from the chat, where the privacy worker is deployed."""
    if not settings.privacy_queue:
        return None
    from chatshop.privacy.chat_requests import ChatDataRequests
    from chatshop.privacy.jobs import PrivacyQueue
    from chatshop.privacy.request_store import PrivacyRequestStore
    from chatshop.privacy.service import PrivacyDesk

    desk = PrivacyDesk(PrivacyRequestStore(settings), PrivacyQueue(settings), _ads_secrets().user_key_secret)
    return ChatDataRequests(desk)


@cache
def _ads_secrets() -> AdsSecrets:
    """One reader of the user-key secret for the chat's consents and its data requests: one SSM
    read and one cache between them."""
    from chatshop.ads.secrets import AdsSecrets

    return AdsSecrets(settings)


def _checkout() -> Checkout:
    from chatshop.ads.order_paid import OrderPaidQueue
    from chatshop.orders.checkout import Checkout

    # Orders paid in the chat (WhatsApp payments) are credited to the ad that brought them.
    return Checkout.from_settings(settings, OrderPaidQueue.where_deployed(settings))


def handle_record(record: SQSRecord) -> None:
    body = json.loads(record.body)
    outcome = worker().handle(body)
    logger.info("Inbound unit handled", extra={"outcome": outcome, "kind": body.get("kind")})


# Idempotent on the WhatsApp id (or the answer's, or the act's); a failure holds back the rest of
# its conversation.
handler = sqs_batch_handler(handle_record, fifo=True)
