"""Product changes made through the shops API reach the index queue, through the shops table's stream.

The template's own stack runs here as `chatshop dev` runs it, except that nothing consumes the index
queue: the test reads the jobs the indexer would get, straight from the queue.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
import requests

from chatshop.shops.domain import ProductImage
from chatshop.shops.product_store import ProductStore
from chatshop_local import environ
from chatshop_local.stack import LocalStack

from .conftest import Api, Reply, add_product, open_shop, sign_up, start_stack, wait_for

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256 + b"\xff\xd9"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    # The indexer is idle: its jobs stay on the queue for the tests to read.
    local = start_stack(tmp_path_factory.mktemp("changes-state"), idle=("IndexerFunction",))
    yield local
    local.stop(save=False)


class IndexJobs:
    """The index queue, read as the indexer would read it, jobs kept per product."""

    def __init__(self, stack: LocalStack) -> None:
        self._sqs = stack.clients.client("sqs")
        self._url = stack.stack.physical_id("IndexQueue")
        self._by_product: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def of(self, product_id: str, count: int) -> list[dict[str, Any]]:
        """The first ``count`` jobs for a product, waiting for them to arrive."""
        return wait_for(lambda: self._arrived(product_id, count))[:count]

    def _arrived(self, product_id: str, count: int) -> list[dict[str, Any]] | None:
        self._drain()
        jobs = self._by_product[product_id]
        return list(jobs) if len(jobs) >= count else None

    def _drain(self) -> None:
        messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in messages.get("Messages", []):
            job = json.loads(message["Body"])
            self._by_product[job["product_id"]].append(job)
            self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture(scope="module")
def jobs(stack) -> IndexJobs:
    return IndexJobs(stack)


@pytest.fixture
def merchant(stack) -> Api:
    return sign_up(Api(stack.gateway.url))


@pytest.fixture
def shop(merchant) -> dict[str, Any]:
    return open_shop(merchant)


def change(merchant: Api, path: str, **fields: Any) -> Reply:
    etag = merchant.get(path).headers["ETag"]
    return merchant.patch(path, fields, headers={"If-Match": etag})


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [job["event"] for job in found]


def test_creating_changing_and_deleting_a_product_queues_one_job_each(merchant, shop, jobs):
    # Given a product created, changed and deleted through the API
    product = add_product(merchant, shop["id"], "SKU-CHG", title="Trail shoe").json
    path = f"/shops/{shop['id']}/products/{product['id']}"
    assert change(merchant, path, title="Trail runner").status == 200
    assert merchant.delete(path).status == 204
    # Then the indexer is told of each, in order, naming the product and the stream record
    found = jobs.of(product["id"], 3)
    assert kinds(found) == ["ProductCreated", "ProductModified", "ProductDeleted"]
    assert {(job["shop_id"], job["product_id"]) for job in found} == {(shop["id"], product["id"])}
    assert len({job["event_id"] for job in found}) == 3
    sequences = [int(job["sequence"]) for job in found]
    assert sequences == sorted(sequences)


def test_an_uploaded_image_is_a_change_but_the_indexers_note_on_it_is_not(stack, merchant, shop, jobs):
    product = add_product(merchant, shop["id"], "SKU-IMG").json
    path = f"/shops/{shop['id']}/products/{product['id']}"
    # Given a photo uploaded to the bucket, which the media function records on the product
    upload = merchant.post(f"{path}/images", {"content_type": "image/jpeg"}).json
    form = upload["upload"]
    fields = {**form["fields"], "Content-Type": "image/jpeg"}
    assert requests.post(form["url"], data=fields, files={"file": ("p", JPEG)}, timeout=30).ok
    assert kinds(jobs.of(product["id"], 2)) == ["ProductCreated", "ProductModified"]
    # When the indexer records what it did with the image, and then the merchant changes the title
    with environ.function_environ(dict(stack.functions["IndexerFunction"].environment)):
        from chatshop.platform.config import load_settings

        store = ProductStore(load_settings())
        image = ProductImage(id=upload["image_id"], content_type="image/jpeg", index_status="indexed")
        assert store.record_image_index(shop["id"], product["id"], image)
    assert change(merchant, path, title="Renamed").status == 200
    # Then only the title change is a job: the note did not come back to the indexer
    assert kinds(jobs.of(product["id"], 3)) == ["ProductCreated", "ProductModified", "ProductModified"]
    assert change(merchant, path, title="Renamed again").status == 200
    assert len(jobs.of(product["id"], 4)) == 4


def test_closing_a_shop_deletes_its_products_from_the_index(merchant, shop, jobs):
    ids = [add_product(merchant, shop["id"], f"SKU-CLOSE-{n}").json["id"] for n in range(3)]
    # When the shop is closed (its catalog is purged item by item afterwards)
    assert merchant.delete(f"/shops/{shop['id']}").status in (200, 202, 204)
    # Then each of its products leaves the index
    for product_id in ids:
        assert kinds(jobs.of(product_id, 2)) == ["ProductCreated", "ProductDeleted"]


def test_the_failed_records_queue_stays_empty_when_all_goes_well(stack, jobs):
    sqs = stack.clients.client("sqs")
    url = stack.stack.physical_id("ProductChangesFailedQueue")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


def index_queue_depth(stack: LocalStack) -> int:
    sqs = stack.clients.client("sqs")
    url = stack.stack.physical_id("IndexQueue")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_restart_restores_data_and_queued_jobs_without_queueing_the_restored_products_again(tmp_path):
    def start() -> LocalStack:
        return start_stack(tmp_path, idle=("IndexerFunction",))

    # Given two products whose jobs wait on the index queue when the stack stops
    first = start()
    merchant = sign_up(Api(first.gateway.url))
    shop = open_shop(merchant)
    for n in range(2):
        add_product(merchant, shop["id"], f"SKU-KEEP-{n}")
    wait_for(lambda: index_queue_depth(first) == 2)
    saved = first.stop()
    assert saved is not None and saved.messages == 2
    # When it starts again from the saved state
    second = start()
    try:
        assert second.state.has_snapshot()
        # Then the jobs are back, the restored products are not queued again, and new changes are
        new_merchant = Api(second.gateway.url, merchant.api_key)
        assert new_merchant.get(f"/shops/{shop['id']}/products").json["items"]
        add_product(new_merchant, shop["id"], "SKU-NEW")
        assert wait_for(lambda: index_queue_depth(second) == 3)
    finally:
        second.stop(save=False)
