"""Photo-to-product quality: does a customer's photo of a product find that product?

Two synthetic catalogs, both from a fixed seed: drawn product pictures (shapes, colours, textures
and a printed label, drawn with Pillow) and product *photographs* (boxes, cans, bottles and pouches
with a textured print, labels, barcodes and logos, shaded for depth, lit from one side, casting a
shadow on a table, with sensor noise; made with NumPy, Pillow and OpenCV). Each product is then
"photographed" eight ways (cropped, rotated, blurred, lit differently, put on another background,
seen in perspective, sent as a small JPEG, pasted smaller into a larger scene), the photo goes
through the same validation as an API upload (JPEG bytes in), and three rankers answer it in the
same run:

* the local-feature matcher (:mod:`chatshop.search.local_features`): SIFT, a vocabulary learned
  from this catalog, tf-idf candidates, RANSAC verification; a photo it finds nothing for counts
  as a miss;
* the configured image model (the tiny untrained CLIP by default) with an exact cosine search;
* no model at all (raw 16x16 pixels), the baseline any model must beat.

Recall@1 and @10 are printed per change, per catalog and overall, with the matcher's latency per
query, how often it claims a match for a product that is not in the catalog, and the bytes its
index spends per image. ``--scale 1000 10000`` also builds the matcher over that many product
images and times queries against it (no CLIP there: it is the matcher's cost that grows); the
images' stored codes are made once, by ``--workers`` processes, and kept in ``--cache``.

With the tiny untrained CLIP the figures are not chance: random weights still pass on raw pixel
statistics, so near-identical photos (blur) match and changed ones (background, lighting) mostly
do not. A real model configured with ``--model DIR`` or CHATSHOP_IMAGE_MODEL gives its own figures.

    .venv/bin/python bench/search_quality.py --products 100
    .venv/bin/python bench/search_quality.py --products 0 --scale 1000 10000 --workers 2
    .venv/bin/python bench/search_quality.py --model /opt/models/clip-ViT-B-32
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import inspect
import io
import math
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from chatshop.platform.config import load_settings  # noqa: E402
from chatshop.search.embedder import SentenceTransformersEmbedder  # noqa: E402
from chatshop.search.images import validate_image  # noqa: E402
from chatshop.search.local_features import (  # noqa: E402
    LocalFeatureIndex,
    LocalFeatureParams,
    catalog_features,
    learn_vocabulary,
    stored_codes,
    with_words,
)

SIDE = 320
SHAPES = ("circle", "square", "triangle", "diamond", "hexagon", "star", "bar", "ring")
TEXTURES = ("plain", "stripes", "dots", "checks", "gradient")
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True)
class Product:
    """A product drawn on a transparent layer, so its background can be swapped."""

    layer: Image.Image  # RGBA
    background: tuple[int, int, int]
    backdrop: Image.Image | None = None  # what the catalog photo stands on, when not a plain colour

    def photo(self, background: Image.Image | None = None) -> Image.Image:
        plain = self.backdrop or Image.new("RGB", self.layer.size, self.background)
        canvas = (background or plain).convert("RGBA")
        canvas.alpha_composite(self.layer)
        return canvas.convert("RGB")


# --- the catalog ------------------------------------------------------------------------------------


def make_product(rng: random.Random) -> Product:
    colour = tuple(rng.randrange(30, 226) for _ in range(3))
    accent = tuple(255 - c for c in colour)
    mask = Image.new("L", (SIDE, SIDE), 0)
    draw_shape(ImageDraw.Draw(mask), rng.choice(SHAPES), rng)
    fill = texture(rng.choice(TEXTURES), colour, accent, rng)
    layer = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 0))
    layer.paste(fill, (0, 0), mask)
    label = "".join(rng.choice(LETTERS) for _ in range(rng.randrange(3, 7)))
    ImageDraw.Draw(layer).text((SIDE * 0.3, SIDE * 0.45), label, fill=(*accent, 255), font_size=40)
    background = tuple(rng.randrange(200, 256) for _ in range(3))
    return Product(layer, background)


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, rng: random.Random) -> None:
    centre, radius = SIDE / 2 + rng.uniform(-20, 20), SIDE * rng.uniform(0.28, 0.4)
    box = (centre - radius, centre - radius, centre + radius, centre + radius)
    if shape == "circle":
        draw.ellipse(box, fill=255)
    elif shape == "square":
        draw.rectangle(box, fill=255)
    elif shape == "ring":
        draw.ellipse(box, fill=255)
        inner = radius * 0.5
        draw.ellipse((centre - inner, centre - inner, centre + inner, centre + inner), fill=0)
    elif shape == "bar":
        draw.rectangle((centre - radius, centre - radius / 3, centre + radius, centre + radius / 3), fill=255)
    else:
        corners = {"triangle": 3, "diamond": 4, "hexagon": 6, "star": 10}[shape]
        points = []
        for i in range(corners):
            reach = radius * (0.45 if shape == "star" and i % 2 else 1.0)
            angle = 2 * math.pi * i / corners - math.pi / 2
            points.append((centre + reach * math.cos(angle), centre + reach * math.sin(angle)))
        draw.polygon(points, fill=255)


def texture(kind: str, colour: tuple, accent: tuple, rng: random.Random) -> Image.Image:
    fill = Image.new("RGB", (SIDE, SIDE), colour)
    draw = ImageDraw.Draw(fill)
    step = rng.randrange(12, 32)
    if kind == "stripes":
        for x in range(-SIDE, SIDE, step):
            draw.line((x, 0, x + SIDE, SIDE), fill=accent, width=step // 3)
    elif kind == "dots":
        for x in range(0, SIDE, step):
            for y in range(0, SIDE, step):
                draw.ellipse((x, y, x + step / 3, y + step / 3), fill=accent)
    elif kind == "checks":
        for x in range(0, SIDE, step):
            for y in range(0, SIDE, step):
                if (x // step + y // step) % 2:
                    draw.rectangle((x, y, x + step, y + step), fill=accent)
    elif kind == "gradient":
        for y in range(SIDE):
            t = y / SIDE
            draw.line(
                (0, y, SIDE, y),
                fill=tuple(int(c * (1 - t) + a * t) for c, a in zip(colour, accent, strict=True)),
            )
    return fill


# --- the photographed catalog ----------------------------------------------------------------------

WORDS = ("FRESH", "ORGANIC", "CLASSIC", "PREMIUM", "NATURAL", "EXTRA", "LIGHT", "ORIGINAL", "GOLD", "PURE")


def noise_field(rng: np.random.Generator, size: int, octaves: int = 4, coarsest: int = 4) -> np.ndarray:
    """Value noise in 0..1: random grids from coarse to fine, each upsampled and added."""
    field = np.zeros((size, size), np.float32)
    for octave in range(octaves):
        cells = coarsest * 2**octave
        grid = rng.random((cells, cells), dtype=np.float32)
        field += cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC) / 2**octave
    field -= field.min()
    return field / max(float(field.max()), 1e-6)


def make_photo_product(rng: random.Random) -> Product:
    """A packaged product photographed on a table: printed texture and labels, shaded, lit, shadowed."""
    nprng = np.random.default_rng(rng.randrange(2**32))
    kind = rng.choice(("box", "can", "bottle", "pouch"))
    first, second = nprng.integers(20, 236, 3), nprng.integers(20, 236, 3)
    blend = noise_field(nprng, SIDE, coarsest=rng.choice((2, 4, 8)))[..., None]
    surface = Image.fromarray((first * (1 - blend) + second * blend).astype(np.uint8))
    print_label(ImageDraw.Draw(surface), rng)

    mask = Image.new("L", (SIDE, SIDE), 0)
    left, right = SIDE * rng.uniform(0.12, 0.3), SIDE * rng.uniform(0.7, 0.88)
    top, bottom = SIDE * rng.uniform(0.06, 0.2), SIDE * rng.uniform(0.8, 0.93)
    shape = ImageDraw.Draw(mask)
    if kind == "box":
        shape.rectangle((left, top, right, bottom), fill=255)
    elif kind == "can":
        shape.rounded_rectangle((left, top, right, bottom), radius=(right - left) / 6, fill=255)
    elif kind == "bottle":
        neck = (right - left) / 4
        middle = (left + right) / 2
        shape.rounded_rectangle((left, top + SIDE * 0.15, right, bottom), radius=(right - left) / 3, fill=255)
        shape.rectangle((middle - neck / 2, top, middle + neck / 2, top + SIDE * 0.17), fill=255)
    else:
        shape.polygon([(left, top), (right, top), (right + 8, bottom), (left - 8, bottom)], fill=255)

    # Depth: a cylinder darkens towards its sides, a box shows a darker side face; the light comes
    # from one side of the picture and leaves a highlight.
    x = (np.arange(SIDE, dtype=np.float32) - (left + right) / 2) / max((right - left) / 2, 1)
    if kind in ("can", "bottle"):
        profile = 0.45 + 0.55 * np.sqrt(np.clip(1 - x**2, 0, 1))
    elif kind == "box":
        profile = np.where(x > 0.55, 0.62, 1.0).astype(np.float32)
    else:
        profile = 0.8 + 0.2 * np.cos(x * 2.2)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    light = 0.78 + 0.3 * ((xx - 0.5) * math.cos(angle) + (yy - 0.5) * math.sin(angle) + 0.5)
    spot = rng.uniform(-0.5, 0.5)
    highlight = 0.35 * np.exp(-(((x - spot) / 0.12) ** 2))[None, :]
    shaded = (
        np.asarray(surface, np.float32) * (profile[None, :] * light)[..., None] + 255 * highlight[..., None]
    )
    shaded += nprng.normal(0, 3.0, shaded.shape)

    # The shadow is part of the layer, so another background still gets it.
    alpha = np.asarray(mask, np.float32) / 255
    offset = (rng.randrange(6, 16), rng.randrange(4, 12))
    shadow = np.roll(cv2.GaussianBlur(alpha, (0, 0), 7), offset, axis=(0, 1)) * 0.5
    rgba = np.zeros((SIDE, SIDE, 4), np.float32)
    rgba[..., :3] = np.where(alpha[..., None] > 0, shaded, 0)  # shadow pixels: black at their own opacity
    rgba[..., 3] = 255 * np.maximum(alpha, shadow)
    layer = Image.fromarray(np.clip(rgba, 0, 255).astype(np.uint8))
    backdrop = table(nprng)
    return Product(layer, tuple(int(c) for c in np.asarray(backdrop).reshape(-1, 3).mean(axis=0)), backdrop)


def print_label(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    ink = tuple(rng.randrange(0, 256) for _ in range(3))
    paper = tuple(255 - c for c in ink)
    band_top = SIDE * rng.uniform(0.3, 0.5)
    draw.rectangle((0, band_top, SIDE, band_top + SIDE * 0.3), fill=paper)
    brand = "".join(rng.choice(LETTERS) for _ in range(rng.randrange(4, 8)))
    draw.text((SIDE * rng.uniform(0.18, 0.3), band_top + 6), brand, fill=ink, font=ImageFont.load_default(38))
    draw.text(
        (SIDE * rng.uniform(0.2, 0.35), band_top + 52),
        f"{rng.choice(WORDS)} {rng.randrange(10, 999)}g",
        fill=ink,
        font=ImageFont.load_default(rng.randrange(16, 24)),
    )
    logo = (SIDE * rng.uniform(0.3, 0.6), SIDE * rng.uniform(0.1, 0.22))
    radius = rng.uniform(14, 26)
    draw.ellipse((logo[0] - radius, logo[1] - radius, logo[0] + radius, logo[1] + radius), fill=ink)
    draw.text((logo[0] - 8, logo[1] - 12), rng.choice(LETTERS), fill=paper, font=ImageFont.load_default(24))
    x = SIDE * rng.uniform(0.3, 0.5)
    for _ in range(rng.randrange(18, 30)):  # a barcode
        width = rng.choice((1, 2, 3))
        draw.rectangle((x, SIDE * 0.8, x + width, SIDE * 0.88), fill=ink)
        x += width + rng.choice((1, 2, 3))


def table(rng: np.random.Generator) -> Image.Image:
    """A light wooden table: wavy grain over a low-frequency stain."""
    wood = rng.integers(150, 230, 3).astype(np.float32)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    grain = 0.5 + 0.5 * np.sin(yy / rng.uniform(3, 7) + 4 * noise_field(rng, SIDE, octaves=2, coarsest=2))
    stain = noise_field(rng, SIDE, octaves=3, coarsest=2)
    shade = 0.75 + 0.15 * grain + 0.1 * stain
    return Image.fromarray(np.clip(wood * shade[..., None], 0, 255).astype(np.uint8))


# --- the photos -------------------------------------------------------------------------------------


def crop(product: Product, rng: random.Random) -> Image.Image:
    keep = rng.uniform(0.6, 0.8)
    size = int(SIDE * keep)
    left, top = rng.randrange(0, SIDE - size), rng.randrange(0, SIDE - size)
    return product.photo().crop((left, top, left + size, top + size)).resize((SIDE, SIDE))


def rotation(product: Product, rng: random.Random) -> Image.Image:
    angle = rng.choice((-1, 1)) * rng.uniform(10, 30)
    return product.photo().rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=product.background)


def blur(product: Product, rng: random.Random) -> Image.Image:
    return product.photo().filter(ImageFilter.GaussianBlur(rng.uniform(2.0, 4.0)))


def brightness(product: Product, rng: random.Random) -> Image.Image:
    return ImageEnhance.Brightness(product.photo()).enhance(rng.choice((0.55, 0.7, 1.35, 1.5)))


def background(product: Product, rng: random.Random) -> Image.Image:
    # A busy, darker surface (a table, a floor) instead of the catalog's plain light one.
    base = tuple(rng.randrange(40, 160) for _ in range(3))
    scene = Image.effect_noise((SIDE, SIDE), 40).convert("RGB")
    scene = Image.blend(Image.new("RGB", (SIDE, SIDE), base), scene, 0.35)
    return product.photo(scene)


def perspective(product: Product, rng: random.Random) -> Image.Image:
    # The product seen from above or from one side: two corners pulled in, up to a fifth of a side.
    corners = np.float32([[0, 0], [SIDE, 0], [SIDE, SIDE], [0, SIDE]])
    pull = SIDE * rng.uniform(0.12, 0.2)
    moved = corners.copy()
    edge = rng.randrange(4)
    for corner in (edge, (edge + 1) % 4):
        toward = corners[(corner + 2) % 4] - corners[corner]
        moved[corner] += toward / np.linalg.norm(toward) * pull
    moved += np.float32([[rng.uniform(-8, 8), rng.uniform(-8, 8)] for _ in range(4)])
    warp = cv2.getPerspectiveTransform(corners, moved)
    pixels = cv2.warpPerspective(
        np.asarray(product.photo()),
        warp,
        (SIDE, SIDE),
        flags=cv2.INTER_LINEAR,
        borderValue=product.background,
    )
    return Image.fromarray(pixels)


def small_jpeg(product: Product, rng: random.Random) -> Image.Image:
    # A thumbnail forwarded through a messenger: small and heavily compressed.
    side = rng.randrange(110, 150)
    out = io.BytesIO()
    product.photo().resize((side, side), Image.Resampling.LANCZOS).save(
        out, "JPEG", quality=rng.randrange(30, 50)
    )
    return Image.open(out).convert("RGB")


def scene(product: Product, rng: random.Random) -> Image.Image:
    # The product in an influencer's picture: smaller, somewhere in a bigger, cluttered room.
    width, height = 640, 480
    nprng = np.random.default_rng(rng.randrange(2**32))
    wall = nprng.integers(60, 200, 3).astype(np.float32)
    room = wall * (0.7 + 0.5 * noise_field(nprng, width, octaves=5, coarsest=3)[:height, :, None])
    canvas = Image.fromarray(np.clip(room, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.randrange(4, 9)):  # furniture and things
        x, y = rng.randrange(0, width), rng.randrange(0, height)
        w, h = rng.randrange(30, 200), rng.randrange(30, 200)
        colour = tuple(rng.randrange(0, 256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), fill=colour)
    side = int(SIDE * rng.uniform(0.55, 0.75))
    cutout = product.layer.resize((side, side), Image.Resampling.LANCZOS)
    canvas = canvas.convert("RGBA")
    canvas.alpha_composite(cutout, (rng.randrange(0, width - side), rng.randrange(0, height - side)))
    return canvas.convert("RGB")


TRANSFORMS: dict[str, Callable[[Product, random.Random], Image.Image]] = {
    "crop": crop,
    "rotation": rotation,
    "blur": blur,
    "brightness": brightness,
    "background": background,
    "perspective": perspective,
    "small_jpeg": small_jpeg,
    "scene": scene,
}


def as_upload(image: Image.Image) -> Image.Image:
    """The picture as the API would see it: JPEG bytes from a phone, validated and decoded."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return validate_image(out.getvalue(), "image/jpeg").image


# --- measuring ------------------------------------------------------------------------------------


def ranks_of_truth(queries: np.ndarray, catalog: np.ndarray) -> np.ndarray:
    """For query i, the rank (0 = first) of catalog item i under cosine similarity."""
    scores = queries @ catalog.T
    truth = scores[np.arange(len(queries)), np.arange(len(queries))]
    return (scores > truth[:, None]).sum(axis=1)


def pixel_vectors(images: list[Image.Image]) -> np.ndarray:
    """No model at all: a 16x16 thumbnail, centred and scaled, as the baseline any model must beat."""
    rows = np.stack([np.asarray(i.resize((16, 16)), dtype=np.float32).ravel() for i in images])
    rows -= rows.mean(axis=1, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)


def recall_line(label: str, ranks: dict[str, np.ndarray]) -> str:
    cells = [f"{name} {np.mean(r < 1):.3f}/{np.mean(r < 10):.3f}" for name, r in ranks.items()]
    return f"{label:<12} " + "   ".join(cells) + f"   n={len(next(iter(ranks.values())))}"


@dataclass
class LocalRun:
    ranks: list[int]
    latencies: list[float]
    inliers: list[int]  # of the first answer, 0 when nothing matched


def local_ranks(index: LocalFeatureIndex, photos: list[Image.Image], keys: list[str]) -> LocalRun:
    """For each photo, the rank of its product among the matcher's verified answers (10**9 when
    the matcher says nothing matched or lists others only), with the time each query took."""
    run = LocalRun([], [], [])
    for photo, key in zip(photos, keys, strict=True):
        started = time.perf_counter()
        matches = index.query(photo, limit=10)
        run.latencies.append(time.perf_counter() - started)
        found = [m.key for m in matches]
        run.ranks.append(found.index(key) if key in found else 10**9)
        run.inliers.append(matches[0].inliers if matches else 0)
    return run


def build_local(images, keys: list[str], params: LocalFeatureParams, seed: int, learn_from: int = 1000):
    """The matcher over ``images``, an iterable, so a big catalog never sits in memory: the
    vocabulary learned from the features of the first ``learn_from`` images, then every image
    indexed, each extracted once. Returns the index and the seconds spent extracting, learning and
    indexing."""
    images = iter(images)
    started = time.perf_counter()
    first = [catalog_features(image, params) for _, image in zip(range(learn_from), images, strict=False)]
    extract_s = time.perf_counter() - started
    started = time.perf_counter()
    index = LocalFeatureIndex.learn(first, params, seed=seed)
    learn_s = time.perf_counter() - started
    started = time.perf_counter()
    for key, feature in zip(keys, first, strict=False):
        index.upsert(key, feature)
    for key, image in zip(keys[len(first) :], images, strict=True):
        index.upsert(key, image)  # extracts: counted as indexing time from here on
    index.query(first[0])  # builds the inverted index, as the first query after a load would
    return index, (extract_s, learn_s, time.perf_counter() - started)


def make_catalog(count: int, rng: random.Random) -> list[Product]:
    """Drawn pictures and photographs, alternating, so each is half of any catalog."""
    return [make_photo_product(rng) if i % 2 else make_product(rng) for i in range(count)]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def quality(args: argparse.Namespace, params: LocalFeatureParams) -> None:
    settings = load_settings()
    if args.model:
        settings = settings.model_copy(update={"image_model": args.model})
    embedder = None if args.no_model else SentenceTransformersEmbedder(settings, batch_size=args.batch_size)
    info = embedder.model_info("image") if embedder else None
    if info:
        print(f"image model: {info.name} ({info.source}), trained: {info.trained}, {info.dimensions}-d")
    if info and not info.trained:
        print(
            "  untrained: what it finds it finds by raw pixel statistics (as the pixel baseline does),"
            " not by knowing what a product is; only a trained model's figures mean search quality"
        )

    rng = random.Random(args.seed)
    products = make_catalog(2 * args.products, rng)
    kinds = np.array(["drawn", "photo"] * args.products)
    keys = [f"product-{i}" for i in range(len(products))]
    catalog_photos = [as_upload(p.photo()) for p in products]
    started = time.perf_counter()
    catalog = embedder.embed_images(catalog_photos) if embedder else None
    rate = len(products) / (time.perf_counter() - started)
    index, (extract_s, learn_s, index_s) = build_local(catalog_photos, keys, params, args.seed)
    print(
        f"catalog: {len(products)} products ({args.products} drawn, {args.products} photographed);"
        f" model {rate:.1f} images/s; local features {len(products) / extract_s:.1f} images/s,"
        f" vocabulary of {index.vocabulary.size} words learned in {learn_s:.1f} s, indexed in {index_s:.1f} s"
    )
    catalog_pixels = pixel_vectors(catalog_photos)

    print("recall@1/@10 per change:  local = SIFT + vocabulary + RANSAC,  model = the image model above")
    every: dict[str, list[np.ndarray]] = {"local": [], "pixels": []} | ({"model": []} if embedder else {})
    every_kind, latencies, inliers = [], [], []
    for name, transform in TRANSFORMS.items():
        photos = [
            as_upload(transform(p, random.Random(f"{args.seed}-{name}-{i}"))) for i, p in enumerate(products)
        ]
        run = local_ranks(index, photos, keys)
        ranks = {
            "local": np.array(run.ranks),
            "pixels": ranks_of_truth(pixel_vectors(photos), catalog_pixels),
        }
        if embedder:
            ranks["model"] = ranks_of_truth(embedder.embed_images(photos), catalog)
        for ranker, r in ranks.items():
            every[ranker].append(r)
        every_kind.append(kinds)
        latencies += run.latencies
        inliers += run.inliers
        split = "  ".join(
            f"{kind} {np.mean(ranks['local'][kinds == kind] < 1):.3f}" for kind in ("drawn", "photo")
        )
        print(f"{recall_line(name, ranks)}   | local r@1 {split}")
    overall = {ranker: np.concatenate(r) for ranker, r in every.items()}
    kind_of = np.concatenate(every_kind)
    for kind in ("drawn", "photo"):
        print(recall_line(f"  {kind}", {ranker: r[kind_of == kind] for ranker, r in overall.items()}))
    print(recall_line("overall", overall))
    n = len(products)
    print(f"{'chance':<12} recall@1 {1 / n:.3f}   recall@10 {min(10, n) / n:.3f}")
    print(
        f"local matcher: p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms per"
        f" query over {n} products; median inliers of the first answer {np.median(inliers):.0f};"
        f" index {index.image_bytes() / len(index):.0f} bytes per image"
        f" + {len(index.vocabulary.to_bytes()) / 1e6:.2f} MB of vocabulary"
    )

    # Products not in the catalog, photographed the same ways: any answer is a false match.
    strangers = make_catalog(2 * args.strangers, random.Random(f"{args.seed}-strangers"))
    names = list(TRANSFORMS)
    stranger_inliers = []
    for i, product in enumerate(strangers):
        name = names[i % len(names)]
        matches = index.query(as_upload(TRANSFORMS[name](product, random.Random(f"stranger-{i}"))))
        stranger_inliers.append(matches[0].inliers if matches else 0)
    flat = [Image.new("RGB", (SIDE, SIDE), tuple(rng.randrange(256) for _ in range(3))) for _ in range(10)]
    flat_claimed = sum(bool(index.query(as_upload(image))) for image in flat)
    claimed = sum(n > 0 for n in stranger_inliers)
    print(
        f"nothing matched: products not in the catalog got an answer {claimed}/{len(strangers)} times;"
        f" flat colours {flat_claimed}/{len(flat)} (min_inliers {params.min_inliers})"
    )
    # The same answers at stricter thresholds: what requiring more inliers trades.
    first, correct = np.array(inliers), overall["local"] < 1
    strangers_first = np.array(stranger_inliers)
    for threshold in sorted({params.min_inliers, 20, 24, 28, 32}):
        if threshold < params.min_inliers:
            continue
        print(
            f"  at {threshold} inliers: recall@1 {np.mean(correct & (first >= threshold)):.3f},"
            f" strangers answered {np.mean(strangers_first >= threshold):.2f}"
        )


def scale_product(seed: int, i: int) -> Product:
    """Product ``i`` of the scaled catalogs, made again when asked for (10,000 layers would not fit
    in memory); the same for every size, so 1,000 images are the first 1,000 of 10,000."""
    rng = random.Random(f"{seed}-scale-{i}")
    return make_photo_product(rng) if i % 2 else make_product(rng)


SCALE_CHUNK = 250  # images a worker makes and extracts at a time, and a cache file holds
memory: dict[int, list] = {}  # chunks made without a cache folder, for the sizes after in one run


def stored_chunk(seed: int, params: LocalFeatureParams, chunk: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stored codes and frames of one chunk of the scaled catalog's product pictures."""
    cv2.setNumThreads(1)
    return [
        stored_codes(
            catalog_features(as_upload(scale_product(seed, i).photo()), params),
            params.compact_dimensions,
            params.stored_features,
        )
        for i in range(chunk * SCALE_CHUNK, (chunk + 1) * SCALE_CHUNK)
    ]


def catalog_digest(params: LocalFeatureParams) -> str:
    """Names what a cached chunk depends on: how the pictures are drawn and how features are extracted
    and kept (the search settings are not part of it)."""
    sources = "".join(
        inspect.getsource(f)
        for f in (make_product, draw_shape, texture, make_photo_product, print_label, table, noise_field)
    )
    extraction = {name: getattr(params, name) for name in EXTRACTION_SETTINGS}
    return hashlib.sha256((sources + repr(sorted(extraction.items()))).encode()).hexdigest()[:16]


# What an indexed image's stored codes and frames depend on; the rest of LocalFeatureParams is how
# photos are searched.
EXTRACTION_SETTINGS = (
    "max_side",
    "min_side",
    "catalog_features",
    "blurred_view_features",
    "blurred_view_sigma",
    "colour_features",
    "contrast_threshold",
    "few_features",
    "compact_dimensions",
    "stored_features",
)


def scaled_catalog(args: argparse.Namespace, params: LocalFeatureParams, size: int) -> tuple[list, float]:
    """The stored codes and frames of the first ``size`` scaled product pictures, made and extracted
    by ``--workers`` processes, each chunk kept in ``--cache`` so a later run reads it instead.
    Returns them and the seconds spent making and extracting what was not cached."""
    chunks = range(math.ceil(size / SCALE_CHUNK))
    digest = catalog_digest(params)

    def path(chunk: int) -> str | None:
        if not args.cache:
            return None
        return os.path.join(args.cache, f"scale-{args.seed}-{digest}-{chunk:05d}.npz")

    missing = [c for c in chunks if not (path(c) and os.path.exists(path(c)))]
    started = time.perf_counter()
    if missing:
        if args.cache:
            os.makedirs(args.cache, exist_ok=True)
        with ProcessPoolExecutor(args.workers) as pool:
            made = pool.map(stored_chunk, [args.seed] * len(missing), [params] * len(missing), missing)
            for chunk, images in zip(missing, made, strict=True):
                if args.cache:
                    save_chunk(path(chunk), images)
                else:
                    memory[chunk] = images
    extract_s = time.perf_counter() - started
    images = []
    for chunk in chunks:
        images += memory[chunk] if chunk in memory else load_chunk(path(chunk))
    return images[:size], extract_s


def save_chunk(path: str, images: list[tuple[np.ndarray, np.ndarray]]) -> None:
    partial = path + ".partial"
    with open(partial, "wb") as out:
        np.savez(
            out,
            counts=np.array([len(codes) for codes, _ in images]),
            codes=np.concatenate([codes for codes, _ in images]),
            frames=np.concatenate([frames for _, frames in images]),
        )
    os.replace(partial, path)  # a run stopped halfway leaves no chunk that looks whole


def load_chunk(path: str) -> list[tuple[np.ndarray, np.ndarray]]:
    with np.load(path) as data:
        bounds = np.concatenate([[0], np.cumsum(data["counts"])])
        codes, frames = data["codes"], data["frames"]
        return [(codes[a:b], frames[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def scale(args: argparse.Namespace, params: LocalFeatureParams, size: int) -> None:
    """The matcher's costs over ``size`` product images, queried with photos of some of them.

    The images' features are made once (and cached); the index is then built as a region's store
    builds it from stored codes: a vocabulary learned from the first 1,000 images' codes, every
    image's words assigned by it, each upserted. Queries are real photos through
    ``LocalFeatureIndex.query``, SIFT on the photo included."""
    stored, extract_s = scaled_catalog(args, params, size)
    keys = [f"product-{i}" for i in range(size)]
    started = time.perf_counter()
    vocabulary = learn_vocabulary(
        np.concatenate([codes for codes, _ in stored[:1000]]), params, seed=args.seed
    )
    index = LocalFeatureIndex(vocabulary, params)
    learn_s = time.perf_counter() - started
    started = time.perf_counter()
    for key, (codes, frames) in zip(keys, stored, strict=True):
        index.upsert(key, with_words(codes, frames, vocabulary))
    del stored
    index.query(as_upload(scale_product(args.seed, 0).photo()))  # builds the inverted index
    index_s = time.perf_counter() - started
    asked = random.Random(f"{args.seed}-asked").sample(range(size), min(args.scale_queries, size))
    names = list(TRANSFORMS)
    photos = [
        as_upload(TRANSFORMS[names[j % len(names)]](scale_product(args.seed, i), random.Random(f"scale-{i}")))
        for j, i in enumerate(asked)
    ]
    run = local_ranks(index, photos, [keys[i] for i in asked])
    snapshot = index.to_bytes()
    recall = np.mean(np.array(run.ranks) < 1)
    print(
        f"{size:>6} images: p50 {percentile(run.latencies, 50):6.1f} ms"
        f"  p95 {percentile(run.latencies, 95):6.1f} ms per query"
        f"  recall@1 {recall:.3f} (n={len(asked)}, all changes)  "
        f"{index.image_bytes() / len(index):5.0f} B/image  snapshot {len(snapshot) / 1e6:.1f} MB  "
        f"build: {extract_s:.0f} s making and extracting uncached images, {learn_s:.0f} s vocabulary,"
        f" {index_s:.0f} s assigning words and indexing",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100, help="of each kind, drawn and photographed")
    parser.add_argument("--model", help="an image model folder or s3:// URI (default: as configured)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--strangers", type=int, default=50, help="of each kind, never indexed")
    parser.add_argument(
        "--scale", type=int, nargs="*", default=[], help="catalog sizes to time the matcher at"
    )
    parser.add_argument("--scale-queries", type=int, default=200)
    parser.add_argument(
        "--cache",
        default=os.path.join(".chatshop", "bench-cache"),
        help="where the scaled catalogs' extracted features are kept between runs ('' for none)",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes making the scaled catalogs")
    parser.add_argument("--no-model", action="store_true", help="the local matcher and pixels only")
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a LocalFeatureParams field"
    )
    args = parser.parse_args()
    if 0 < args.products < 5:
        parser.error("--products must be 0 (only --scale) or at least 5")
    # One thread: a search function answers one request per instance, on its share of a core.
    cv2.setNumThreads(1)
    fields = {f.name: f.type for f in dataclasses.fields(LocalFeatureParams)}
    overrides = {}
    for item in args.param:
        name, _, value = item.partition("=")
        if name not in fields:
            parser.error(f"--param {name}: not a LocalFeatureParams field")
        overrides[name] = (
            value if fields[name] == "str" else (float if fields[name] == "float" else int)(value)
        )
    params = LocalFeatureParams(**overrides)
    if overrides:
        print(f"parameters changed: {overrides}")
    if args.products:
        quality(args, params)
    if args.scale:
        print("local matcher by catalog size (half drawn, half photographed):")
    for size in args.scale:
        scale(args, params, size)


if __name__ == "__main__":
    sys.exit(main())
