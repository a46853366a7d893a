"""Search figures through the local gateway: text and photo search latency, end to end.

Runs the project's whole stack (``template.yaml``) on the embedded AWS with the configured models
(locally: MiniLM and the tiny untrained CLIP), imports a catalog of generated products, uploads a
picture for some of them, waits until the indexer has indexed every title and picture, then times
sequential keep-alive requests: ``GET /search?q=`` (SKUs, brand words and descriptive phrases) and
``POST /search/image`` (the catalog's own pictures, slightly changed). Prints figures; never asserts
on time, but exits non-zero when an answer is wrong (a status, or a SKU not found first).
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
from PIL import Image, ImageDraw, ImageEnhance

sys.path.insert(0, str(Path(__file__).parent))

from _stack import running_stack  # noqa: E402
from _stats import summary  # noqa: E402
from catalog_api import Client, fail  # noqa: E402

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


def picture(i: int, size: int = 224) -> Image.Image:
    """A distinct synthetic product photo: a coloured shape on a plain background."""
    rng = random.Random(i)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(160, 256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    colour = tuple(rng.randrange(0, 160) for _ in range(3))
    box = [rng.randrange(10, 80), rng.randrange(10, 80), rng.randrange(140, 214), rng.randrange(140, 214)]
    (draw.ellipse if i % 2 else draw.rectangle)(box, fill=colour)
    return image


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def query_photo(i: int) -> bytes:
    """The product's picture as a customer might shoot it: cropped and a little brighter."""
    image = picture(i).crop((12, 12, 212, 212)).resize((224, 224))
    return jpeg(ImageEnhance.Brightness(image).enhance(1.1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000, help="products in the catalog (<= 5,000)")
    parser.add_argument("--pictures", type=int, default=100, help="products given a picture")
    parser.add_argument("--queries", type=int, default=300, help="timed searches of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="untimed searches before each series")
    parser.add_argument("--index-timeout", type=float, default=600.0, help="seconds to wait for indexing")
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

    photos = [rng.randrange(args.pictures) for _ in range(args.warmup + args.queries)]
    calls = [("POST", f"/search/image?shop_id={shop_id}&limit=10", query_photo(i)) for i in photos]
    image_ms = timed(client, args.warmup, calls)
    print(f"POST /search/image    {summary(image_ms)}")
    print(f"  inside the function {summary(client.function_ms[-args.queries :])}")
    print("(image model: the tiny untrained CLIP unless CHATSHOP_IMAGE_MODEL names a real one)")


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


def timed(client: Client, warmup: int, calls: list[tuple[str, str, Any]]) -> list[float]:
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
    return times


if __name__ == "__main__":
    main()
