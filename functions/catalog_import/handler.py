"""Catalog import worker: applies feeds queued by the shops API (SQS, partial batch failures)."""

from __future__ import annotations

from functools import cache
from typing import Literal

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pydantic import BaseModel

from chatshop.platform import aws
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.shops.import_store import ImportStore
from chatshop.shops.imports import process_queued_import
from chatshop.shops.product_store import ProductStore
from chatshop.shops.shop_store import ShopStore

settings = load_settings()
logger = get_logger()
# Longer than SQS can hold a message (14 days), so a redelivery is always recognised.
IDEMPOTENCY_WINDOW_S = 15 * 24 * 3600

persistence = DynamoDBPersistenceLayer(
    table_name=settings.require("idempotency_table"), boto3_client=aws.client("dynamodb", settings)
)
idempotency = IdempotencyConfig(event_key_jmespath="import_id", expires_after_seconds=IDEMPOTENCY_WINDOW_S)


class CatalogImportRequested(BaseModel):
    type: Literal["CatalogImportRequested"]
    shop_id: str
    import_id: str


@cache
def stores() -> tuple[ShopStore, ProductStore, ImportStore]:
    return ShopStore(settings), ProductStore(settings), ImportStore(settings)


@idempotent_function(data_keyword_argument="job", config=idempotency, persistence_store=persistence)
def run(job: dict) -> dict:
    shops, products, imports = stores()
    shop = shops.get(job["shop_id"])
    if shop is None:
        logger.info("Shop closed before its import ran", extra=job)
        return {"status": "skipped"}
    record = process_queued_import(products, imports, shop, job["import_id"])
    logger.info(
        "Catalog import finished",
        extra={
            **job,
            "status": record.status,
            "rows_created": record.created,
            "rows_updated": record.updated,
        },
    )
    return {"status": record.status}


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, CatalogImportRequested)
    run(job=job.model_dump())


_process_batch = sqs_batch_handler(handle_record)


def handler(event: dict, context: object) -> dict:
    # Lets the idempotency record of a crashed invocation expire with the invocation's own deadline.
    idempotency.register_lambda_context(context)
    return _process_batch(event, context)
