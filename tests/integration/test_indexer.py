"""The indexer on the embedded AWS: image statuses on products, deletes, and its stores."""

from __future__ import annotations

import pytest

from chatshop.platform.config import load_settings
from chatshop.search.lexical import LexicalEntry, LexicalStore
from chatshop.shops.product_store import IndexState, ProductStore

from .conftest import add_product, wait_for
from .test_search_api import INDEXING_S, items, png, upload_image

pytestmark = pytest.mark.integration


def image_statuses(merchant, shop_id: str, product_id: str) -> dict[str, tuple[str, str | None]]:
    product = merchant.get(f"/shops/{shop_id}/products/{product_id}").json
    return {i["id"]: (i["index_status"], i["index_error"]) for i in product["images"]}


def test_a_truncated_image_is_recorded_as_rejected_and_a_good_one_as_indexed(merchant, shop):
    product = add_product(merchant, shop["id"], "IDX-1", title="Woven basket").json
    good = upload_image(merchant, shop["id"], product["id"], png(21))
    bad = upload_image(merchant, shop["id"], product["id"], png(22, size=256)[:-300])
    statuses = wait_for(
        lambda: (
            (s := image_statuses(merchant, shop["id"], product["id"]))
            and all(v[0] != "pending" for v in s.values())
            and len(s) == 2
            and s
        ),
        timeout=INDEXING_S,
        interval=0.5,
    )
    assert statuses == {good: ("indexed", None), bad: ("rejected", "image_truncated")}


def test_a_deleted_product_is_no_longer_found(api, merchant, shop):
    product = add_product(merchant, shop["id"], "IDX-GONE", title="Velvet cushion").json
    query = f"/search?shop_id={shop['id']}&q=IDX-GONE"
    wait_for(lambda: product["id"] in items(api.get(query)), timeout=INDEXING_S, interval=0.5)
    assert merchant.delete(f"/shops/{shop['id']}/products/{product['id']}").status == 204
    wait_for(lambda: product["id"] not in items(api.get(query)), timeout=INDEXING_S, interval=0.5)


def test_a_changed_title_is_found_by_its_new_words(api, merchant, shop):
    product = add_product(merchant, shop["id"], "IDX-NEW", title="Linen apron").json
    query = f"/search?shop_id={shop['id']}&q="
    wait_for(lambda: product["id"] in items(api.get(query + "apron")), timeout=INDEXING_S, interval=0.5)
    etag = merchant.get(f"/shops/{shop['id']}/products/{product['id']}").headers["ETag"]
    changed = merchant.patch(
        f"/shops/{shop['id']}/products/{product['id']}",
        {"title": "Quilted oven glove"},
        headers={"If-Match": etag},
    )
    assert changed.status == 200, changed.raw
    wait_for(lambda: product["id"] in items(api.get(query + "quilted")), timeout=INDEXING_S, interval=0.5)


@pytest.fixture
def indexer_environ(app_stack):
    from chatshop_local import environ

    with environ.function_environ(dict(app_stack.functions["IndexerFunction"].environment)):
        yield load_settings()


def test_lexical_writers_build_on_each_others_documents(indexer_environ):
    # Two containers' stores, writing in turn: each re-reads the document it changes. (Concurrent
    # writers rely on S3's conditional writes, which the emulator does not make atomic.)
    shop_id = "e" * 32
    writers = [LexicalStore(indexer_environ, region="test-writers-1") for _ in range(2)]
    for k in range(6):
        entry = LexicalEntry.of(f"p{k}", shop_id, "US", f"SKU-{k}", f"thing number {k}", None)
        writers[k % 2].apply(shop_id, [entry], [])
    writers[0].apply(shop_id, [], ["p4"])
    reader = LexicalStore(indexer_environ, region="test-writers-1", refresh_s=0)
    assert len(reader.for_query(None)) == len(reader.for_query(shop_id)) == 5
    assert [hit.product_id for hit in reader.for_query(None).search("sku-3", 5)][:1] == ["p3"]
    assert reader.for_query(shop_id).search("sku-4", 5) == []


def test_an_index_state_is_stored_read_and_removed(indexer_environ, merchant, shop):
    store = ProductStore(indexer_environ)
    state = IndexState(shop["id"], "p" + "9" * 31, "US", "hash", {"img": "indexed", "bad": "image_truncated"})
    store.put_index_state(state)
    assert store.get_index_state(shop["id"], state.product_id) == state
    store.delete_index_state(shop["id"], state.product_id)
    assert store.get_index_state(shop["id"], state.product_id) is None


def test_index_states_are_stored_and_removed_in_batches(indexer_environ, merchant, shop):
    # Given 30 stored states (more than one BatchWriteItem holds)
    store = ProductStore(indexer_environ)
    ids = [f"p{k:031d}" for k in range(60)]
    store.write_index_states(
        [IndexState(shop["id"], pid, "US", f"h{pid}", {"i": "indexed"}) for pid in ids[:30]], []
    )
    assert store.get_index_state(shop["id"], ids[29]) == IndexState(
        shop["id"], ids[29], "US", f"h{ids[29]}", {"i": "indexed"}
    )

    # When the next batch stores 30 others and removes the first 30 in the same write
    store.write_index_states(
        [IndexState(shop["id"], pid, "CA", None) for pid in ids[30:]], [(shop["id"], pid) for pid in ids[:30]]
    )

    # Then only the new states are left, as a put and a delete each would have left them
    _, states = store.get_with_index_states([(shop["id"], pid) for pid in ids])
    assert states == {(shop["id"], pid): IndexState(shop["id"], pid, "CA", None) for pid in ids[30:]}
    store.write_index_states([], [(shop["id"], pid) for pid in ids[30:]])
    assert store.get_with_index_states([(shop["id"], pid) for pid in ids])[1] == {}


def test_products_are_listed_with_their_live_shops_in_one_read(indexer_environ, merchant, shop):
    product = add_product(merchant, shop["id"], "IDX-LIST").json
    listed = ProductStore(indexer_environ).get_listed(
        [(shop["id"], product["id"]), (shop["id"], "p" + "0" * 31)]
    )
    assert list(listed.products) == [product["id"]]
    assert list(listed.shops) == [shop["id"]]
    assert merchant.delete(f"/shops/{shop['id']}").status == 204
    assert ProductStore(indexer_environ).get_listed([(shop["id"], product["id"])]).shops == {}


def test_a_batch_reads_its_products_and_index_states_together(indexer_environ, merchant, shop):
    store = ProductStore(indexer_environ)
    product = add_product(merchant, shop["id"], "IDX-BATCH").json
    state = IndexState(shop["id"], product["id"], "US", "hash", {"img": "indexed"})
    store.put_index_state(state)
    missing = "p" + "8" * 31
    products, states = store.get_with_index_states([(shop["id"], product["id"]), (shop["id"], missing)])
    assert products == {(shop["id"], product["id"]): store.get(shop["id"], product["id"])}
    assert states == {(shop["id"], product["id"]): store.get_index_state(shop["id"], product["id"])}
    assert states[(shop["id"], product["id"])] == state
    store.delete_index_state(shop["id"], product["id"])
