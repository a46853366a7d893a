"""Search queries: a photo or words in, the shop's or the marketplace's best products out.

Text search is hybrid. A retailer_id typed by the customer always comes first; the rest is one
ranking fused from three signals by reciprocal rank fusion (scores of different models are not
comparable, their ranks are): MiniLM neighbours of the words, products containing the words
(brand, title), and, while a trained CLIP is configured, pictures that CLIP finds for the words.
An untrained CLIP maps words to noise, so it gets no vote then.

Image search has two rankers. With the untrained default CLIP, the local-feature matcher
(:mod:`chatshop.search.local_features`) carries the ranking: products whose picture a verified
homography maps onto the photo, most inliers first, and nothing at all below its minimum, said
with a reason. With a trained CLIP, CLIP proposes (it also finds similar, not identical,
products) and the matcher verifies: the verified ones come first, by inliers, then the rest in
CLIP's order. Either way a result carries its inlier count.

Every hit is checked against the products as they are now, read in one batch: a deleted product,
a closed or paused shop, and (when asked) a product that cannot be bought are left out. The index
is asked for more candidates than the answer needs, so that filtering rarely leaves it short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from PIL.Image import Image

from chatshop.platform.config import Settings
from chatshop.platform.errors import NotFound, ValidationFailed
from chatshop.platform.iso import ISO_3166_ALPHA2
from chatshop.platform.rollout import Rollout
from chatshop.shops.domain import Product, Shop
from chatshop.shops.product_store import Listed

from .documents import PURCHASABLE, local_image_key, product_id_of, shop_and_product_of
from .embedding import Embedder
from .lexical import LexicalHit, LexicalIndex, clean_query
from .local_features import LocalFeatureIndex, LocalMatch
from .vectors import VectorFilter, VectorHit, VectorIndex

FEATURE = "visual_search"
MAX_LIMIT = 50
# Reciprocal rank fusion's constant: 60 is the value of its original paper, and it keeps one
# signal's first place from outvoting a product that is near the top of all of them.
RRF_K = 60
SEMANTIC_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
CLIP_TEXT_WEIGHT = 0.5
MAX_CANDIDATES = 200
# Below this cosine a MiniLM neighbour is no evidence at all (unrelated sentences score around
# 0 to 0.1), and letting it rank would push noise above the words' own hits.
MIN_SEMANTIC_SCORE = 0.1
# A product has several images; an image query asks for this many hits per product wanted.
IMAGES_PER_PRODUCT = 4
# CLIP's proposals the matcher may verify (it verifies the best of them by shared words, up to its
# own ``candidates``).
PROPOSALS = 50

Ranker = Literal["local_features", "clip+local_features", "clip"]
LOCAL_RANKER: Ranker = "local_features"
CLIP_AND_LOCAL_RANKER: Ranker = "clip+local_features"
CLIP_RANKER: Ranker = "clip"  # no local-feature indexes given (a test's or a benchmark's service)
# Why an image search found nothing: no product image verified against the photo, or the photo has
# no local features at all (a flat colour, a blank page).
NoMatchReason = Literal["no_match", "no_features"]


def image_ranker(image_model_trained: bool) -> Ranker:
    """The ranker image search uses, as ``/search/health`` reports it."""
    return CLIP_AND_LOCAL_RANKER if image_model_trained else LOCAL_RANKER


class VectorIndexes(Protocol):
    def for_query(self, space: str, shop_id: str | None) -> VectorIndex: ...


class LexicalIndexes(Protocol):
    def for_query(self, shop_id: str | None) -> LexicalIndex: ...


class Catalog(Protocol):
    def get_listed(self, keys: Sequence[tuple[str, str]]) -> Listed: ...


class ShopReader(Protocol):
    def get(self, shop_id: str) -> Shop | None: ...


class LocalIndexes(Protocol):
    """The region's local-feature indexes (``chatshop.search.local_store.LocalFeatureStore``)."""

    def index(self, shop_id: str | None = None) -> LocalFeatureIndex | None: ...


@dataclass(frozen=True)
class SearchScope:
    """One shop, or the marketplace of one country."""

    shop_id: str | None = None
    country: str | None = None
    in_stock_only: bool = False

    def vector_filter(self) -> VectorFilter:
        return VectorFilter(shop_id=self.shop_id, country=self.country)


@dataclass(frozen=True)
class SearchResult:
    product_id: str
    shop_id: str
    score: float
    product: Product
    # Image search: the matcher's verified inliers for the product's best image (0: not verified).
    inliers: int | None = None


@dataclass(frozen=True)
class ImageSearch:
    results: list[SearchResult]
    ranker: Ranker
    reason: NoMatchReason | None = None  # set when there are no results


@dataclass(frozen=True)
class ScoredResult:
    """A text search result with the evidence for it, for callers that judge relevance themselves:
    the MiniLM cosine of the product's text (0.0 when it was not among the neighbours asked for),
    and whether the product's words or its retailer id were hit."""

    product_id: str
    shop_id: str
    score: float
    product: Product
    cosine: float
    lexical: bool
    sku: bool


@dataclass(frozen=True)
class _Candidate:
    product_id: str
    shop_id: str
    score: float
    inliers: int | None = None


def resolve_scope(
    shops: ShopReader,
    rollout: Rollout,
    region: str,
    shop_id: str | None,
    country: str | None,
    in_stock_only: bool = False,
) -> SearchScope:
    """Check a scope: exactly one of shop and country (422), a known country (422), visual search
    live there from this region (403), an open shop (404)."""
    if (shop_id is None) == (country is None):
        raise ValidationFailed(["shop_id", "country"], "Give exactly one of shop_id and country.")
    if country is not None:
        if country not in ISO_3166_ALPHA2:
            raise ValidationFailed(["country"], f"{country!r} is not an ISO 3166-1 alpha-2 country code.")
        rollout.require_live(FEATURE, country, region)
        return SearchScope(country=country, in_stock_only=in_stock_only)
    assert shop_id is not None
    shop = shops.get(shop_id)
    if shop is None or shop.status != "active":
        raise NotFound(f"No shop {shop_id}.")
    rollout.require_live(FEATURE, shop.country, region, shop_id=shop.id)
    return SearchScope(shop_id=shop.id, in_stock_only=in_stock_only)


class SearchService:
    def __init__(
        self,
        embedder: Embedder,
        indexes: VectorIndexes,
        lexicon: LexicalIndexes,
        catalog: Catalog,
        local: LocalIndexes | None = None,
    ) -> None:
        self._embedder = embedder
        self._indexes = indexes
        self._lexicon = lexicon
        self._catalog = catalog
        self._local = local

    @property
    def ranker(self) -> Ranker:
        return image_ranker(self._embedder.image_model_trained) if self._local is not None else CLIP_RANKER

    def by_image(self, image: Image, scope: SearchScope, limit: int) -> list[SearchResult]:
        return self.image_search(image, scope, limit).results

    def image_search(self, image: Image, scope: SearchScope, limit: int) -> ImageSearch:
        """The products in ``image``, best first, with the ranker that chose them and, when there are
        none, why."""
        ranker = self.ranker
        if ranker == CLIP_RANKER:
            return self._answer(self._proposals(image, scope, limit), scope, limit, ranker)
        assert self._local is not None
        local = self._local.index(scope.shop_id)
        if local is None or len(local) == 0:
            proposals = self._proposals(image, scope, limit) if ranker == CLIP_AND_LOCAL_RANKER else []
            return self._answer(proposals, scope, limit, ranker)
        features = local.features_of(image, query=True)
        if len(features) < local.params.min_inliers and ranker == LOCAL_RANKER:
            # Fewer features than a match needs inliers (a flat colour has none): nothing can match.
            return ImageSearch([], ranker, "no_features")
        if ranker == LOCAL_RANKER:
            wanted = _candidates_for(limit) * IMAGES_PER_PRODUCT
            matches = local.query(
                features, wanted, label=scope.country, photo=image, item_of=shop_and_product_of
            )
            return self._answer(best_match_per_product(matches), scope, limit, ranker)
        proposals = self._proposals(image, scope, limit, PROPOSALS)
        keys = [
            local_image_key(c.shop_id, c.product_id, image_id) for c in proposals for image_id in c.images
        ]
        verified = (
            best_match_per_product(
                local.query(features, len(keys), only=keys, photo=image, item_of=shop_and_product_of)
            )
            if keys
            else []
        )
        return self._answer(verify(proposals, verified), scope, limit, ranker)

    def _proposals(self, image: Image, scope: SearchScope, limit: int, at_least: int = 0) -> list[_Proposal]:
        """CLIP's nearest products, each with its images that were hit."""
        index = self._indexes.for_query("image", scope.shop_id)
        if len(index) == 0:
            return []
        vector = self._embedder.embed_images([image])[0]
        wanted = max(_candidates_for(limit), at_least) * IMAGES_PER_PRODUCT
        return proposals_per_product(index.query(vector, wanted, scope.vector_filter()))

    def _answer(
        self, candidates: Sequence[_Candidate], scope: SearchScope, limit: int, ranker: Ranker
    ) -> ImageSearch:
        results = self._listed(list(candidates), scope, limit)
        return ImageSearch(results, ranker, None if results else "no_match")

    def shop_products_like(self, image: Image, shop_id: str, limit: int) -> list[SearchResult]:
        """The chat's ProductFinder (``chatshop.search.chat``): a shop's products most like a photo."""
        return self.by_image(image, SearchScope(shop_id=shop_id), limit)

    def by_text(self, query: str, scope: SearchScope, limit: int) -> list[SearchResult]:
        text = clean_query(query)
        if not text:
            return []
        wanted = _candidates_for(limit)
        lexical = self._lexicon.for_query(scope.shop_id).search(text, wanted, scope.shop_id, scope.country)
        skus = [_Candidate(hit.product_id, hit.shop_id, 1.0) for hit in lexical if hit.sku]
        rankings = [(LEXICAL_WEIGHT, _lexical_candidates(lexical))]
        text_index = self._indexes.for_query("text", scope.shop_id)
        if len(text_index) > 0:
            vector = self._embedder.embed_texts([text])[0]
            hits = text_index.query(vector, wanted, scope.vector_filter())
            related = [hit for hit in hits if hit.score >= MIN_SEMANTIC_SCORE]
            rankings.append((SEMANTIC_WEIGHT, best_per_product(related)))
        if self._embedder.image_model_trained:
            image_index = self._indexes.for_query("image", scope.shop_id)
            if len(image_index) > 0:
                vector = self._embedder.embed_texts_for_images([text])[0]
                hits = image_index.query(vector, wanted * IMAGES_PER_PRODUCT, scope.vector_filter())
                rankings.append((CLIP_TEXT_WEIGHT, best_per_product(hits)))
        return self._listed(skus_first(skus, fuse(rankings)), scope, limit)

    def by_text_scored(self, query: str, scope: SearchScope, limit: int) -> list[ScoredResult]:
        """``by_text``'s ranking, each result with its cosine and word and SKU hits.

        A product the words found keeps its cosine even under the floor that keeps noise out of the
        ranking: an absolute relevance test needs the low scores too.
        """
        text = clean_query(query)
        if not text:
            return []
        wanted = _candidates_for(limit)
        lexical = self._lexicon.for_query(scope.shop_id).search(text, wanted, scope.shop_id, scope.country)
        skus = [_Candidate(hit.product_id, hit.shop_id, 1.0) for hit in lexical if hit.sku]
        rankings = [(LEXICAL_WEIGHT, _lexical_candidates(lexical))]
        cosines: dict[str, float] = {}
        text_index = self._indexes.for_query("text", scope.shop_id)
        if len(text_index) > 0:
            vector = self._embedder.embed_texts([text])[0]
            neighbours = best_per_product(text_index.query(vector, wanted, scope.vector_filter()))
            cosines = {c.product_id: c.score for c in neighbours}
            rankings.append((SEMANTIC_WEIGHT, [c for c in neighbours if c.score >= MIN_SEMANTIC_SCORE]))
        if self._embedder.image_model_trained:
            image_index = self._indexes.for_query("image", scope.shop_id)
            if len(image_index) > 0:
                vector = self._embedder.embed_texts_for_images([text])[0]
                hits = image_index.query(vector, wanted * IMAGES_PER_PRODUCT, scope.vector_filter())
                rankings.append((CLIP_TEXT_WEIGHT, best_per_product(hits)))
        words = {hit.product_id for hit in lexical if not hit.sku}
        sku_ids = {c.product_id for c in skus}
        return [
            ScoredResult(
                r.product_id,
                r.shop_id,
                r.score,
                r.product,
                round(cosines.get(r.product_id, 0.0), 6),
                r.product_id in words,
                r.product_id in sku_ids,
            )
            for r in self._listed(skus_first(skus, fuse(rankings)), scope, limit)
        ]

    def _listed(self, candidates: list[_Candidate], scope: SearchScope, limit: int) -> list[SearchResult]:
        if not candidates:
            return []
        listed = self._catalog.get_listed([(c.shop_id, c.product_id) for c in candidates])
        results: list[SearchResult] = []
        for candidate in candidates:
            product = listed.products.get(candidate.product_id)
            shop = listed.shops.get(candidate.shop_id)
            if product is None or shop is None or not _shown(product, shop, scope):
                continue
            score = round(candidate.score, 6)
            results.append(SearchResult(product.id, shop.id, score, product, candidate.inliers))
            if len(results) == limit:
                break
        return results


def _shown(product: Product, shop: Shop, scope: SearchScope) -> bool:
    return (
        shop.status == "active"
        and product.shop_id == shop.id
        and (scope.country is None or shop.country == scope.country)
        and (scope.shop_id is None or shop.id == scope.shop_id)
        and (not scope.in_stock_only or product.availability in PURCHASABLE)
    )


def _candidates_for(limit: int) -> int:
    return min(3 * limit + 10, MAX_CANDIDATES)


def best_per_product(hits: Sequence[VectorHit]) -> list[_Candidate]:
    """One candidate per product, with the score of its best vector (its closest image)."""
    best: dict[str, _Candidate] = {}
    for hit in hits:
        product_id = product_id_of(hit.key)
        current = best.get(product_id)
        if current is None or hit.score > current.score:
            best[product_id] = _Candidate(product_id, hit.metadata.shop_id, hit.score)
    return sorted(best.values(), key=lambda c: (-c.score, c.product_id))


@dataclass(frozen=True)
class _Proposal(_Candidate):
    images: tuple[str, ...] = ()  # image ids of the product that CLIP found, best first


def proposals_per_product(hits: Sequence[VectorHit]) -> list[_Proposal]:
    """``best_per_product``, keeping each product's images that were hit, for the matcher to verify."""
    images: dict[str, list[str]] = {}
    for hit in hits:
        product_id, _, image_id = hit.key.partition(":")
        images.setdefault(product_id, []).append(image_id)
    return [
        _Proposal(c.product_id, c.shop_id, c.score, 0, tuple(images[c.product_id]))
        for c in best_per_product(hits)
    ]


def best_match_per_product(matches: Sequence[LocalMatch]) -> list[_Candidate]:
    """One candidate per product, scored by the inliers of its best verified image."""
    best: dict[str, _Candidate] = {}
    for match in matches:
        shop_id, product_id = shop_and_product_of(match.key)
        current = best.get(product_id)
        if current is None or match.inliers > (current.inliers or 0):
            best[product_id] = _Candidate(product_id, shop_id, float(match.inliers), match.inliers)
    return sorted(best.values(), key=lambda c: (-c.score, c.product_id))


def verify(proposals: Sequence[_Candidate], verified: Sequence[_Candidate]) -> list[_Candidate]:
    """CLIP's proposals re-ranked: the verified first, most inliers first, then the rest in CLIP's
    order; each keeps CLIP's cosine as its score and carries its inliers."""
    inliers = {c.product_id: c.inliers or 0 for c in verified}
    ranked = sorted(enumerate(proposals), key=lambda item: (-inliers.get(item[1].product_id, 0), item[0]))
    return [_Candidate(c.product_id, c.shop_id, c.score, inliers.get(c.product_id, 0)) for _, c in ranked]


def _lexical_candidates(hits: Sequence[LexicalHit]) -> list[_Candidate]:
    return [_Candidate(hit.product_id, hit.shop_id, hit.score) for hit in hits]


def fuse(rankings: Sequence[tuple[float, Sequence[_Candidate]]]) -> list[_Candidate]:
    """Weighted reciprocal rank fusion, scaled so a product first in every ranking scores 1."""
    scores: dict[str, float] = {}
    shops: dict[str, str] = {}
    for weight, ranking in rankings:
        for rank, candidate in enumerate(ranking, start=1):
            scores[candidate.product_id] = scores.get(candidate.product_id, 0.0) + weight / (RRF_K + rank)
            shops[candidate.product_id] = candidate.shop_id
    best_possible = sum(weight for weight, _ in rankings) / (RRF_K + 1)
    fused = [_Candidate(pid, shops[pid], score / best_possible) for pid, score in scores.items()]
    return sorted(fused, key=lambda c: (-c.score, c.product_id))


def skus_first(skus: Sequence[_Candidate], ranked: Sequence[_Candidate]) -> list[_Candidate]:
    sku_ids = {c.product_id for c in skus}
    return [*skus, *(c for c in ranked if c.product_id not in sku_ids)]


def search_service_for(settings: Settings, embedder: Embedder) -> SearchService:
    """The service over this region's indexes and the shops table, as the search functions use it."""
    from chatshop.search.indexes import SearchIndexes
    from chatshop.search.lexical import LexicalStore
    from chatshop.search.local_store import local_store_for
    from chatshop.shops.product_store import ProductStore

    dimensions = {"image": embedder.image_dimensions, "text": embedder.text_dimensions}
    indexes = SearchIndexes(settings, settings.region, dimensions)
    return SearchService(
        embedder, indexes, LexicalStore(settings), ProductStore(settings), local_store_for(settings)
    )
