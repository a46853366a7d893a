"""A batch's index writes: merged, applied once per space and shop, states only after the index."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatshop.search.batch_writes import BatchWrites
from chatshop.search.documents import image_vector_key, local_image_key
from chatshop.search.indexer import INDEXED

from .test_indexer import IMG_A, PID, SHOP, Rig, png


class CountingVectors:
    """Wraps the rig's vectors, counting writes and failing on demand."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str, int, int]] = []
        self.failing = False

    def apply(self, space, shop_id, upserts, deletes) -> None:
        if self.failing:
            raise OSError("the snapshot bucket is unreachable")
        self.calls.append((space, shop_id, len(upserts), len(deletes)))
        self.inner.apply(space, shop_id, upserts, deletes)


@pytest.fixture
def rig() -> Rig:
    rig = Rig()
    rig.counting = CountingVectors(rig.vectors)
    rig.indexer = replace(rig.indexer, vectors=rig.counting)
    return rig


def batch_of(rig: Rig) -> tuple[BatchWrites, object]:
    writes = BatchWrites(rig.indexer.vectors, rig.indexer.lexicon, rig.indexer.products, rig.indexer.local)
    batch = replace(
        rig.indexer,
        vectors=writes.vectors,
        lexicon=writes.lexicon,
        local=writes.local,
        products=writes.states,
    )
    return writes, batch


def test_events_of_a_batch_are_written_once_per_space_and_shop(rig):
    # Given a product with an image, and a batch holding its event three times
    rig.put({IMG_A: png((255, 0, 0))})
    writes, batch = batch_of(rig)

    # When the batch is handled and flushed
    outcomes = [batch.handle(SHOP, PID) for _ in range(3)]
    assert rig.counting.calls == []  # nothing written while the batch runs
    writes.flush()

    # Then it was embedded once (later events saw the batch's own pending state) and written once
    assert [outcome.action for outcome in outcomes] == ["indexed", "unchanged", "unchanged"]
    assert sorted(rig.counting.calls) == [("image", SHOP, 1, 0), ("text", SHOP, 1, 0)]
    assert rig.vectors.keys("image") == {image_vector_key(PID, IMG_A)}
    assert rig.products.states[PID].images == {IMG_A: INDEXED}
    assert rig.local.calls == [(SHOP, 1, 0)] and set(rig.local.images) == {local_image_key(SHOP, PID, IMG_A)}
    assert rig.image_status() == {IMG_A: ("indexed", None)}


def test_a_product_added_then_deleted_in_one_batch_leaves_nothing(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    writes, batch = batch_of(rig)

    batch.handle(SHOP, PID)
    del rig.products.products[PID]
    batch.handle(SHOP, PID)
    writes.flush()

    assert rig.vectors.keys("text") == set()
    assert rig.vectors.keys("image") == set()
    assert PID not in rig.products.states
    assert rig.lexicon.index.search("mug-1", 5) == []


def test_a_failed_flush_records_no_state_so_the_redelivered_batch_embeds_again(rig):
    # Given a batch whose index write fails
    rig.put({IMG_A: png((255, 0, 0))})
    writes, batch = batch_of(rig)
    batch.handle(SHOP, PID)
    rig.counting.failing = True

    # When it is flushed, it fails, and no index state claims the product was indexed
    with pytest.raises(OSError):
        writes.flush()
    assert PID not in rig.products.states

    # Then the redelivered batch indexes it for real
    rig.counting.failing = False
    writes, batch = batch_of(rig)
    assert batch.handle(SHOP, PID).action == "indexed"
    writes.flush()
    assert rig.vectors.keys("text") == {PID}
    assert rig.products.states[PID].text_hash is not None


def test_a_batchs_index_states_are_stored_and_removed_in_one_write(rig):
    # Given one product indexed before, and a batch that indexes a second and sees the first gone
    rig.put({IMG_A: png((255, 0, 0))})
    rig.handle()
    second = "p" + "2" * 31
    rig.products.products[second] = rig.products.products.pop(PID).model_copy(update={"id": second})
    rig.products.state_writes.clear()
    writes, batch = batch_of(rig)

    # When the batch handles both and is flushed
    assert batch.handle(SHOP, PID).action == "removed"
    assert batch.handle(SHOP, second).action == "indexed"
    writes.flush()

    # Then the new state and the removal went to the store together
    assert rig.products.state_writes == [(1, 1)]
    assert set(rig.products.states) == {second}
