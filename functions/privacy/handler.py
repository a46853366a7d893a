"""Privacy worker: a customer's export or erasure, step by step (SQS, partial batch failures).

Each step is idempotent and the request records the steps it finished, so a job delivered again
after a crash carries on where it stopped; on its last delivery a request that cannot finish is
marked failed, and its job goes on to the dead-letter queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.ads.secrets import AdsSecrets
from chatshop.messaging.channel_store import ChannelStore
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.privacy.ads_holdings import AdsHoldings
from chatshop.privacy.bucket_holdings import BucketHoldings
from chatshop.privacy.jobs import PrivacyQueue
from chatshop.privacy.messaging_holdings import MessagingHoldings
from chatshop.privacy.request_store import PrivacyRequestStore
from chatshop.privacy.requests import PrivacyJob
from chatshop.privacy.service import Holdings, PrivacyWorker

settings = load_settings()
logger = get_logger()


@cache
def worker() -> PrivacyWorker:
    from chatshop.orders.order_store import OrderStore

    secrets = AdsSecrets(settings)
    holdings = Holdings(
        messaging=MessagingHoldings(settings),
        bucket=BucketHoldings(settings),
        # Where orders or ads are not deployed, there is nothing of them to export or erase.
        orders=OrderStore(settings) if settings.orders_table else None,
        ads=AdsHoldings(settings) if settings.ads_table else None,
    )
    return PrivacyWorker(
        PrivacyRequestStore(settings),
        holdings,
        ChannelStore(settings),
        secrets.user_key_secret,
        PrivacyQueue(settings),
    )


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, PrivacyJob)
    attempt = int(record.attributes.approximate_receive_count or 1)
    finished = worker().run(job, datetime.now(UTC), attempt)
    logger.info(
        "Privacy request run",
        extra={
            "request_id": job.request_id,
            "sweep": job.sweep,
            "status": finished.status if finished else None,
            "counts": finished.counts if finished else None,
        },
    )


handler = sqs_batch_handler(handle_record)
