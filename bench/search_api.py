"""Search figures through the local gateway: text and photo search latency, end to end.

Runs the project's whole stack (``template.yaml``) on the embedded AWS with the configured models
(locally: MiniLM and the tiny untrained CLIP), imports a catalog of generated products, uploads a
picture for some of them, waits until the indexer has indexed every title and picture, then times
sequential keep-alive requests: ``GET /search?q=`` (SKUs, brand words and descriptive phrases) and
``POST /search/image`` (customers' photos of the pictured products: cropped, turned, tilted, in
a scene, as in ``bench/search_quality.py``, whose catalogs the pictures come from). Prints figures
and the photo search's recall@1; never asserts on time, but exits non-zero when an answer is wrong
(a status, or a SKU not found first).

``--shop-images N [M ...]`` brings the shop's local-feature snapshot to N (then M...) images before
a photo series each, the images beyond ``--pictures`` extracted here in the bench's process and
written as the indexer writes them (through the same store, so the same conditional writes): the
function then searches a catalog of N images without the indexer embedding them all with CLIP.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from _stack import running_stack  # noqa: E402
from _stats import summary  # noqa: E402
from catalog_api import Client, fail  # noqa: E402
from search_quality import TRANSFORMS, make_photo_product, make_product  # noqa: E402

PHOTO_CHANGES = ("crop", "rotation", "perspective", "brightness", "scene")

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
FEED_HEADER = "id,title,description,availability,condition,price,link,image_link,brand"
BRANDS = ["Acme", "Northwind", "Lumen", "Fjord", "Kestrel", "Orbit", "Tandem", "Vela"]
COLOURS = ["red", "blue", "green", "black", "white", "yellow", "grey", "pink"]
MATERIALS = ["cotton", "leather", "steel", "oak", "ceramic", "wool", "linen", "glass"]
KINDS = ["mug", "jacket", "lamp", "chair", "scarf", "backpack", "sneakers", "vase", "watch", "bowl"]
PHRASES = ["something warm to wear in winter", "a cup for my morning coffee", "shoes for running"]
POLL_S = 0.5


def title_of(i: int) -> tuple[str, str]:
    brand = BRANDS[i % len(BRANDS)]
    title = f"{COLOURS[i // 8 % 8].title()} {MATERIALS[i // 64 % 8]} {KINDS[i % len(KINDS)]}"
    return brand, title


def feed(rows: int) -> bytes:
    lines = [FEED_HEADER]
    for i in range(rows):
        brand, title = title_of(i)
        retailer_id = f"SKU-{i:05d}"
        lines.append(
            f"{retailer_id},{title},A {title.lower()} by {brand},in stock,new,"
            f"{10 + i % 90}.99 USD,https://example.com/p/{retailer_id},"
            f"https://example.com/p/{retailer_id}.jpg,{brand}"
        )
    return ("\n".join(lines) + "\n").encode()


def product(i: int):
    """Product i of the quality bench's catalogs: photographed (odd) or drawn (even)."""
    rng = random.Random(f"search-api-{i}")
    return make_photo_product(rng) if i % 2 else make_product(rng)


def picture(i: int) -> Image.Image:
    return product(i).photo()


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def query_photo(i: int, n: int) -> bytes:
    """A customer's photo of product i, changed one of the ways the quality bench changes it."""
    change = PHOTO_CHANGES[n % len(PHOTO_CHANGES)]
    return jpeg(TRANSFORMS[change](product(i), random.Random(f"search-api-photo-{n}")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000, help="products in the catalog (<= 5,000)")
    parser.add_argument("--pictures", type=int, default=100, help="products given a picture")
    parser.add_argument("--queries", type=int, default=300, help="timed searches of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="untimed searches before each series")
    parser.add_argument("--index-timeout", type=float, default=600.0, help="seconds to wait for indexing")
    parser.add_argument(
        "--shop-images",
        type=int,
        nargs="*",
        default=[],
        help="images in the shop's local snapshot, per series",
    )
    args = parser.parse_args()
    if not 1 <= args.pictures <= args.products <= 5_000 or args.queries < 1:
        parser.error("need 1 <= --pictures <= --products <= 5,000 and --queries >= 1")

    logging.basicConfig(level=logging.WARNING)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    with running_stack(TEMPLATE) as bench:
        print(f"stack started in {bench.started_in_s:.1f} s at {bench.url}")
        client = Client(bench.url)
        client.function_ms = bench.function_ms
        try:
            run(bench, client, args)
        finally:
            client.close()


def run(bench: Any, client: Client, args: argparse.Namespace) -> None:
    shop_id, product_ids = set_up(client, args.products)
    started = time.perf_counter()
    for i in range(args.pictures):
        upload(client, shop_id, product_ids[f"SKU-{i:05d}"], jpeg(picture(i)))
    time.sleep(2 * POLL_S)  # the last changes reach the index queue through the table's stream
    wait_indexed(bench, client, shop_id, args)
    print(
        f"indexed {args.products:,} titles and {args.pictures} pictures "
        f"{time.perf_counter() - started:.1f} s after the import"
    )

    rng = random.Random(7)
    texts = [text_query(rng, args.products) for _ in range(args.warmup + args.queries)]
    text_ms = timed(client, args.warmup, [("GET", f"/search?{q}&shop_id={shop_id}", None) for q in texts])
    print(f"GET /search           {summary(text_ms)}")
    print(f"  inside the function {summary(client.function_ms[-args.queries :])}")

    photo_series(client, shop_id, product_ids, args, rng, args.pictures)
    added = args.pictures
    for total in args.shop_images:
        started = time.perf_counter()
        add_shop_images(bench, shop_id, added, total - added)
        took = time.perf_counter() - started
        print(f"added {total - added:,} images to the shop's local snapshot in {took:.0f} s")
        added = total
        photo_series(client, shop_id, product_ids, args, rng, total)


def photo_series(
    client: Client, shop_id: str, product_ids: dict[str, str], args: argparse.Namespace, rng, images: int
) -> None:
    photos = [rng.randrange(args.pictures) for _ in range(args.warmup + args.queries)]
    calls = [
        ("POST", f"/search/image?shop_id={shop_id}&limit=10", query_photo(i, n)) for n, i in enumerate(photos)
    ]
    answers: list[Any] = []
    image_ms = timed(client, args.warmup, calls, answers)
    wanted = [product_ids[f"SKU-{i:05d}"] for i in photos[args.warmup :]]
    found = [a["items"][0]["product_id"] if a["items"] else None for a in answers]
    recall = sum(f == w for f, w in zip(found, wanted, strict=True)) / len(wanted)
    print(f"POST /search/image    {summary(image_ms)}   ({images:,} images in the shop)")
    print(f"  inside the function {summary(client.function_ms[-args.queries :])}")
    print(
        f"  ranker {answers[-1]['ranker']}; recall@1 {recall:.3f} over {', '.join(PHOTO_CHANGES)};"
        f" nothing matched {sum(f is None for f in found)}/{len(found)}",
        flush=True,
    )


def set_up(client: Client, products: int) -> tuple[str, dict[str, str]]:
    signup = client.expect(201, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})
    client.token = signup["api_key"]
    shop = client.expect(201, "POST", "/shops", {"name": "Bench", "country": "US", "currency": "USD"})
    record = client.expect(
        201, "POST", f"/shops/{shop['id']}/catalog/imports", feed(products), content_type="text/csv"
    )
    if record["created"] != products:
        fail(f"import created {record['created']} of {products}")
    ids: dict[str, str] = {}
    cursor = ""
    while True:
        page = client.expect(200, "GET", f"/shops/{shop['id']}/products?limit=100{cursor}")
        ids.update((item["retailer_id"], item["id"]) for item in page["items"])
        if not page.get("next_cursor"):
            return shop["id"], ids
        cursor = "&cursor=" + urllib.parse.quote(page["next_cursor"])


def upload(client: Client, shop_id: str, product_id: str, data: bytes) -> None:
    path = f"/shops/{shop_id}/products/{product_id}/images"
    form = client.expect(201, "POST", path, {"content_type": "image/jpeg"})["upload"]
    sent = requests.post(
        form["url"], data=form["fields"], files={"file": ("p.jpg", data, "image/jpeg")}, timeout=30
    )
    if sent.status_code not in (200, 204):
        fail(f"upload refused: {sent.status_code} {sent.text[:500]}")


def wait_indexed(bench: Any, client: Client, shop_id: str, args: argparse.Namespace) -> None:
    """Until the index queue is empty and every picture is marked indexed."""
    deadline = time.perf_counter() + args.index_timeout
    while time.perf_counter() < deadline:
        if index_jobs_left(bench) == 0 and count_indexed(client, shop_id) >= args.pictures:
            return
        time.sleep(POLL_S)
    fail(f"not indexed within {args.index_timeout:.0f} s")


def index_jobs_left(bench: Any) -> int:
    stack = bench.stack
    url = stack.stack.physical_id("IndexQueue")
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = stack.clients.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)
    return sum(int(attributes["Attributes"][name]) for name in names)


def count_indexed(client: Client, shop_id: str) -> int:
    indexed, cursor = 0, ""
    while True:
        page = client.expect(200, "GET", f"/shops/{shop_id}/products?limit=100{cursor}")
        indexed += sum(image.get("index_status") == "indexed" for p in page["items"] for image in p["images"])
        if not page.get("next_cursor"):
            return indexed
        cursor = "&cursor=" + urllib.parse.quote(page["next_cursor"])


def text_query(rng: random.Random, products: int) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return urllib.parse.urlencode({"q": f"SKU-{rng.randrange(products):05d}"})
    if kind == 1:
        brand, title = title_of(rng.randrange(products))
        return urllib.parse.urlencode({"q": f"{brand} {title.split()[-1]}"})
    return urllib.parse.urlencode({"q": rng.choice(PHRASES)})


def add_shop_images(bench: Any, shop_id: str, first: int, count: int) -> None:
    """``count`` more pictures (products ``first``...) in the shop's local snapshot, as the indexer
    would write them; their keys name products that do not exist, so they are never listed."""
    from chatshop.search.documents import local_image_key
    from chatshop.search.local_features import catalog_features
    from chatshop.search.local_store import LocalFeatureStore, LocalImage
    from chatshop.search.snapshots import BlobStore

    stack = bench.stack
    bucket = stack.stack.physical_id("SearchIndexBucket")
    local = LocalFeatureStore(BlobStore(stack.clients.client("s3"), bucket), stack.options.region)
    batch: list[LocalImage] = []
    for i in range(first, first + count):
        key = local_image_key(shop_id, f"p{i:031x}", "0" * 32)
        batch.append(LocalImage(key, "US", catalog_features(picture(i), local.params)))
        if len(batch) == 500 or i == first + count - 1:
            local.apply(shop_id, batch, [])
            batch = []


def timed(
    client: Client, warmup: int, calls: list[tuple[str, str, Any]], answers: list[Any] | None = None
) -> list[float]:
    times = []
    for n, (method, path, body) in enumerate(calls):
        started = time.perf_counter()
        if body is None:
            status, data = client.request(method, path)
        else:
            status, data = client.request(method, path, body, content_type="image/jpeg")
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            fail(f"{method} {path}: {status} {str(data)[:500]}")
        sku = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("q", [""])[0]
        if sku.startswith("SKU-") and data["items"][0]["product"]["retailer_id"] != sku:
            fail(f"{sku} was not found first")
        if n >= warmup:
            times.append(elapsed)
            if answers is not None:
                answers.append(data)
    return times


if __name__ == "__main__":
    main()
