"""Pictures of the demo products, drawn rather than shipped: a flat drawing of each product in its
colour, so photo search has something to find and `chatshop chat` has photos to send."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

SIZE = 320
Box = tuple[int, int, int, int]
Drawer = Callable[[ImageDraw.ImageDraw, tuple[int, int, int]], None]


def _tee(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.polygon([(60, 90), (120, 60), (200, 60), (260, 90), (235, 140), (210, 125), (210, 270),
                  (110, 270), (110, 125), (85, 140)], fill=colour, outline=(40, 40, 40))  # fmt: skip
    draw.arc((135, 45, 185, 85), 0, 180, fill=(40, 40, 40), width=3)


def _hoodie(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.polygon([(55, 110), (110, 70), (210, 70), (265, 110), (250, 280), (215, 280), (210, 150),
                  (110, 150), (105, 280), (70, 280)], fill=colour, outline=(40, 40, 40))  # fmt: skip
    draw.rectangle((110, 140, 210, 280), fill=colour, outline=(40, 40, 40))
    draw.ellipse((125, 30, 195, 100), fill=colour, outline=(40, 40, 40))
    draw.rectangle((130, 200, 190, 240), outline=(40, 40, 40), width=2)


def _jeans(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.polygon([(100, 40), (220, 40), (235, 290), (175, 290), (160, 120), (145, 290), (85, 290)],
                 fill=colour, outline=(30, 30, 30))  # fmt: skip
    draw.line((100, 60, 220, 60), fill=(200, 160, 60), width=3)


def _cap(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.pieslice((70, 90, 250, 270), 180, 360, fill=colour, outline=(30, 30, 30))
    draw.polygon([(230, 180), (300, 185), (300, 200), (230, 195)], fill=colour, outline=(30, 30, 30))
    draw.ellipse((152, 82, 168, 98), fill=colour, outline=(30, 30, 30))


def _tote(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.rectangle((80, 120, 240, 290), fill=colour, outline=(90, 70, 40), width=3)
    draw.arc((110, 50, 210, 190), 180, 360, fill=(90, 70, 40), width=8)


def _sneaker(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.polygon([(40, 230), (60, 150), (130, 140), (200, 190), (285, 205), (290, 240), (40, 245)],
                 fill=colour, outline=(60, 60, 60))  # fmt: skip
    draw.rectangle((40, 240, 292, 258), fill=(230, 230, 230), outline=(60, 60, 60))
    for x in range(120, 180, 14):
        draw.line((x, 160, x + 12, 175), fill=(60, 60, 60), width=2)


def _socks(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    for dx, shade in ((0, 0), (60, 25), (120, 50)):
        tone = tuple(max(0, c - shade) for c in colour)
        draw.polygon([(40 + dx, 40), (90 + dx, 40), (90 + dx, 220), (120 + dx, 260), (100 + dx, 290),
                      (45 + dx, 250), (40 + dx, 220)], fill=tone, outline=(50, 50, 50))  # fmt: skip


def _jacket(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int]) -> None:
    draw.polygon([(50, 100), (115, 55), (205, 55), (270, 100), (255, 285), (220, 285), (215, 140),
                  (105, 140), (100, 285), (65, 285)], fill=colour, outline=(40, 40, 40))  # fmt: skip
    draw.rectangle((105, 130, 215, 285), fill=colour, outline=(40, 40, 40))
    draw.polygon([(130, 55), (160, 95), (190, 55)], fill=(235, 235, 235), outline=(40, 40, 40))
    draw.line((160, 95, 160, 285), fill=(200, 200, 200), width=4)
    for y in range(150, 285, 45):
        draw.line((105, y, 215, y), fill=tuple(max(0, c - 35) for c in colour), width=3)


# retailer id -> (background, colour, drawing); the retailer ids are the demo catalog's.
PICTURES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], Drawer]] = {
    "TEE-BLK-M": ((236, 232, 224), (25, 25, 28), _tee),
    "TEE-WHT-M": ((120, 160, 190), (248, 248, 245), _tee),
    "HOOD-GRY-L": ((225, 215, 200), (128, 128, 132), _hoodie),
    "JEAN-IND-32": ((240, 236, 228), (40, 55, 110), _jeans),
    "CAP-NVY": ((210, 225, 210), (22, 32, 70), _cap),
    "TOTE-NAT": ((90, 110, 90), (225, 210, 180), _tote),
    "SNK-WHT-42": ((200, 120, 90), (250, 250, 250), _sneaker),
    "SOCK-3PK": ((245, 240, 230), (150, 60, 70), _socks),
    "SOCK-BLU-M": ((230, 226, 214), (40, 80, 170), _socks),
    "JKT-PUF-BLK-M": ((220, 200, 170), (30, 30, 34), _jacket),
    "JKT-RAIN-BLU-L": ((235, 230, 220), (30, 90, 180), _jacket),
    "JKT-FLC-GRN-M": ((225, 220, 235), (50, 110, 70), _jacket),
}


def demo_picture(retailer_id: str) -> Image.Image:
    background, colour, draw_product = PICTURES[retailer_id]
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw_product(ImageDraw.Draw(image), colour)
    return image


def customer_photo(retailer_id: str, seed: int = 0) -> Image.Image:
    """The product as a customer might photograph it: off-centre, a little blurred and rotated."""
    rng = random.Random(f"{retailer_id}:{seed}")
    image = demo_picture(retailer_id).rotate(rng.uniform(-8, 8), expand=False, fillcolor=(200, 200, 200))
    left, top = rng.randrange(0, 30), rng.randrange(0, 30)
    image = image.crop((left, top, left + SIZE - 30, top + SIZE - 30)).resize((SIZE, SIZE))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def jpeg_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()
