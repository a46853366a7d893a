"""Photo-to-product quality: does a customer's photo of a product find that product?

A synthetic catalog of product pictures (shapes, colours, textures and a printed label, drawn
with Pillow from a fixed seed) is embedded with the configured image model. Each product is then
"photographed" five ways (cropped, rotated, blurred, lit differently, put on another background),
the photo goes through the same validation as an API upload (JPEG bytes in), and an exact cosine
search over the catalog ranks it. Recall@1 and @10 are printed per change and overall, next to
what chance and a no-model baseline (raw 16x16 pixels) give, with the model's name and whether
it is trained.

With the tiny untrained CLIP (the default) the figures are not chance: random weights still pass
on raw pixel statistics, so near-identical photos (blur) match and changed ones (background,
lighting) mostly do not. They say nothing about search quality; a real model configured with
``--model DIR`` or CHATSHOP_IMAGE_MODEL is what this harness is for.

    .venv/bin/python bench/search_quality.py --products 200
    .venv/bin/python bench/search_quality.py --model /opt/models/clip-ViT-B-32
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from chatshop.platform.config import load_settings  # noqa: E402
from chatshop.search.embedder import SentenceTransformersEmbedder  # noqa: E402
from chatshop.search.images import validate_image  # noqa: E402

SIDE = 320
SHAPES = ("circle", "square", "triangle", "diamond", "hexagon", "star", "bar", "ring")
TEXTURES = ("plain", "stripes", "dots", "checks", "gradient")
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True)
class Product:
    """A product drawn on a transparent layer, so its background can be swapped."""

    layer: Image.Image  # RGBA
    background: tuple[int, int, int]

    def photo(self, background: Image.Image | None = None) -> Image.Image:
        canvas = (background or Image.new("RGB", self.layer.size, self.background)).convert("RGBA")
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


TRANSFORMS: dict[str, Callable[[Product, random.Random], Image.Image]] = {
    "crop": crop,
    "rotation": rotation,
    "blur": blur,
    "brightness": brightness,
    "background": background,
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


def recall_line(label: str, ranks: np.ndarray, baseline: np.ndarray | None = None) -> str:
    line = f"{label:<12} recall@1 {np.mean(ranks < 1):.3f}   recall@10 {np.mean(ranks < 10):.3f}"
    if baseline is not None:
        line += f"   | pixels recall@1 {np.mean(baseline < 1):.3f}   recall@10 {np.mean(baseline < 10):.3f}"
    return f"{line}   n={len(ranks)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--model", help="an image model folder or s3:// URI (default: as configured)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.products < 10:
        parser.error("--products must be at least 10")

    settings = load_settings()
    if args.model:
        settings = settings.model_copy(update={"image_model": args.model})
    embedder = SentenceTransformersEmbedder(settings, batch_size=args.batch_size)
    info = embedder.model_info("image")
    print(f"image model: {info.name} ({info.source}), trained: {info.trained}, {info.dimensions}-d")
    if not info.trained:
        print(
            "  untrained: what it finds it finds by raw pixel statistics (as the pixel baseline does),"
            " not by knowing what a product is; only a trained model's figures mean search quality"
        )

    rng = random.Random(args.seed)
    products = [make_product(rng) for _ in range(args.products)]
    started = time.perf_counter()
    catalog_photos = [as_upload(p.photo()) for p in products]
    catalog = embedder.embed_images(catalog_photos)
    rate = len(products) / (time.perf_counter() - started)
    print(f"catalog: {len(products)} products, {rate:.1f} images/s (JPEG decode + validation + embedding)")
    catalog_pixels = pixel_vectors(catalog_photos)

    every_rank, every_baseline = [], []
    for name, transform in TRANSFORMS.items():
        photos = [
            as_upload(transform(p, random.Random(f"{args.seed}-{name}-{i}"))) for i, p in enumerate(products)
        ]
        ranks = ranks_of_truth(embedder.embed_images(photos), catalog)
        baseline = ranks_of_truth(pixel_vectors(photos), catalog_pixels)
        every_rank.append(ranks)
        every_baseline.append(baseline)
        print(recall_line(name, ranks, baseline))
    print(recall_line("overall", np.concatenate(every_rank), np.concatenate(every_baseline)))
    n = len(products)
    print(f"{'chance':<12} recall@1 {1 / n:.3f}   recall@10 {min(10, n) / n:.3f}")


if __name__ == "__main__":
    sys.exit(main())
