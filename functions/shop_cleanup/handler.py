"""Shop cleanup worker: purges the catalog and files of closed shops (SQS, partial batch failures)."""

from __future__ import annotations

from functools import cache
from typing import Literal

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.shops.cleanup import purge_closed_shop
from chatshop.shops.media import MediaBucket
from chatshop.shops.shop_store import ShopStore

settings = load_settings()
logger = get_logger()


class ShopDeleted(BaseModel):
    type: Literal["ShopDeleted"]
    shop_id: str


@cache
def dependencies() -> tuple[ShopStore, MediaBucket]:
    return ShopStore(settings), MediaBucket(settings)


def handle_record(record: SQSRecord) -> None:
    # Purging is idempotent by nature (it deletes what is still there), so a redelivery is harmless.
    message = parse_message(record, ShopDeleted)
    shops, bucket = dependencies()
    purged = purge_closed_shop(shops, bucket, message.shop_id)
    if purged is None:
        logger.warning("Ignored a purge request for an open shop", extra={"shop_id": message.shop_id})
        return
    logger.info("Purged a closed shop", extra={"shop_id": message.shop_id, **purged.__dict__})


handler = sqs_batch_handler(handle_record)
