"""One SQS batch's index writes, applied together once every event of the batch is handled.

Each ``apply`` of the ANN backend rewrites a shop's snapshot and the region's, so an import of
10,000 products would rewrite the region's snapshot 20,000 times if every event wrote its own
change. Here the changes of a batch are merged (the last change of a key wins) and written once
per space and shop (the local features likewise, per shop). The index states are written only
after the vectors, words and features they describe:
a batch cut short leaves states saying "not yet indexed", so its redelivery embeds again rather
than skipping what never reached the index. They are written together, in BatchWriteItem calls
of 25, where each took a PutItem of its own (fifty round trips a batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chatshop.shops.domain import ProductImage
from chatshop.shops.product_store import IndexState, StoredVersion

from .indexer import IndexStateStore, IndexStateWriter, IndexWriter, LexicalWriter, LocalWriter
from .lexical import LexicalEntry
from .local_store import LocalImage
from .vectors import VectorRecord

_DELETED = None


@dataclass
class _Pending:
    # key -> the record to upsert, or None to delete; insertion-ordered
    changes: dict[str, object] = field(default_factory=dict)

    def upsert(self, key: str, value: object) -> None:
        self.changes.pop(key, None)
        self.changes[key] = value

    def delete(self, key: str) -> None:
        self.changes.pop(key, None)
        self.changes[key] = _DELETED

    def split(self) -> tuple[list, list[str]]:
        upserts = [value for value in self.changes.values() if value is not _DELETED]
        deletes = [key for key, value in self.changes.items() if value is _DELETED]
        return upserts, deletes


class _DeferredVectors:
    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], _Pending] = {}

    def apply(
        self, space: str, shop_id: str, upserts: Sequence[VectorRecord], deletes: Sequence[str]
    ) -> None:
        pending = self.pending.setdefault((space, shop_id), _Pending())
        for key in deletes:
            pending.delete(key)
        for record in upserts:
            pending.upsert(record.key, record)


class _DeferredLexicon:
    def __init__(self) -> None:
        self.pending: dict[str, _Pending] = {}

    def apply(self, shop_id: str, upserts: Sequence[LexicalEntry], deletes: Sequence[str]) -> None:
        pending = self.pending.setdefault(shop_id, _Pending())
        for key in deletes:
            pending.delete(key)
        for entry in upserts:
            pending.upsert(entry.product_id, entry)


class _DeferredLocal:
    def __init__(self) -> None:
        self.pending: dict[str, _Pending] = {}

    def apply(self, shop_id: str, upserts: Sequence[LocalImage], deletes: Sequence[str]) -> None:
        pending = self.pending.setdefault(shop_id, _Pending())
        for key in deletes:
            pending.delete(key)
        for image in upserts:
            pending.upsert(image.key, image)


class _DeferredStates:
    """Reads through to the store (seeing this batch's own pending states); writes wait."""

    def __init__(self, store: IndexStateStore) -> None:
        self._store = store
        self.states: dict[tuple[str, str], IndexState | None] = {}
        self.image_records: list[tuple[str, str, ProductImage]] = []

    def get(self, shop_id: str, product_id: str) -> StoredVersion | None:
        return self._store.get(shop_id, product_id)

    def get_index_state(self, shop_id: str, product_id: str) -> IndexState | None:
        key = (shop_id, product_id)
        if key in self.states:
            return self.states[key]
        return self._store.get_index_state(shop_id, product_id)

    def put_index_state(self, state: IndexState) -> None:
        self.states[(state.shop_id, state.product_id)] = state

    def delete_index_state(self, shop_id: str, product_id: str) -> None:
        self.states[(shop_id, product_id)] = None

    def record_image_index(self, shop_id: str, product_id: str, image: ProductImage) -> bool:
        self.image_records.append((shop_id, product_id, image))
        return True


class BatchWrites:
    """Stand-ins for the indexer's writers during one batch, and the flush that applies them.

    One per batch: a failed flush fails the whole batch, whose redelivery starts afresh."""

    def __init__(
        self, vectors: IndexWriter, lexicon: LexicalWriter, states: IndexStateWriter, local: LocalWriter
    ) -> None:
        self._targets = (vectors, lexicon, states, local)
        self.vectors = _DeferredVectors()
        self.lexicon = _DeferredLexicon()
        self.local = _DeferredLocal()
        self.states = _DeferredStates(states)

    def flush(self) -> None:
        vectors, lexicon, states, local = self._targets
        for (space, shop_id), pending in self.vectors.pending.items():
            upserts, deletes = pending.split()
            vectors.apply(space, shop_id, upserts, deletes)
        for shop_id, pending in self.lexicon.pending.items():
            upserts, deletes = pending.split()
            lexicon.apply(shop_id, upserts, deletes)
        for shop_id, pending in self.local.pending.items():
            upserts, deletes = pending.split()
            local.apply(shop_id, upserts, deletes)
        recorded = self.states.states
        states.write_index_states(
            [state for state in recorded.values() if state is not None],
            [key for key, state in recorded.items() if state is None],
        )
        for shop_id, product_id, image in self.states.image_records:
            states.record_image_index(shop_id, product_id, image)
