"""Demo data for `chatshop dev`, written through the same logic the functions use."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from chatshop.messaging.channel_models import WhatsAppChannelConnect
from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.channels import connect_whatsapp
from chatshop.messaging.token_vault import TokenVault
from chatshop.platform import aws
from chatshop.platform.config import Settings, load_settings
from chatshop.platform.rollout import load_rollout
from chatshop.recruiting.domain import Link, LinkCreate
from chatshop.shops.catalog import create_product, product_id_for
from chatshop.shops.domain import MerchantCreate, Product, ProductCreate, ProductImage, Shop, ShopCreate
from chatshop.shops.faq import FaqEntryInput, FaqReplace, replace_faq
from chatshop.shops.faq_store import FaqStore
from chatshop.shops.media import image_key
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.merchants import register_merchant
from chatshop.shops.product_store import ProductStore
from chatshop.shops.shop_store import ShopStore
from chatshop.shops.shops import create_shop

from . import environ
from .demo_pictures import PICTURES, customer_photo, demo_picture, jpeg_bytes
from .functions import LocalFunction

# Seeding runs with this function's environment, so it writes where the function reads.
SEED_AS = "ShopsFunction"
# The demo shop is American, so its data lives in us-east-1; another region's stack starts empty.
DEMO_REGION = "us-east-1"
DEMO_FILE = "demo.json"
# Photos of demo products as a customer would take them, for `/photo` in `chatshop chat`.
DEMO_PHOTOS = "demo-photos"

# The demo shop's WhatsApp number, known to the local Graph API emulator only. The token is a
# local stand-in that opens nothing real.
DEMO_PHONE_NUMBER_ID = "100200300400500"
DEMO_WABA_ID = "100200300400501"
DEMO_DISPLAY_NUMBER = "+1 555 010 0000"
DEMO_ACCESS_TOKEN = "EAAG-local-demo-token-not-a-secret"
# The demo shop's marketing template (registered in the Graph API emulator) and its shop-window link.
DEMO_OFFER_TEMPLATE = "demo_weekend_offer"
DEMO_LINK_LABEL = "Shop window poster"
DEMO_LINK_PRODUCT = "JKT-PUF-BLK-M"

DEMO_PRODUCTS = [
    ("TEE-BLK-M", "Organic cotton tee, black, M", 2500, "apparel > tops", "in stock", 40),
    ("TEE-WHT-M", "Organic cotton tee, white, M", 2500, "apparel > tops", "in stock", 35),
    ("HOOD-GRY-L", "Heavyweight hoodie, grey, L", 6900, "apparel > tops", "in stock", 12),
    ("JEAN-IND-32", "Selvedge jeans, indigo, 32", 12900, "apparel > bottoms", "in stock", 8),
    ("CAP-NVY", "Canvas cap, navy", 2200, "accessories", "in stock", 60),
    ("TOTE-NAT", "Canvas tote bag, natural", 1800, "accessories", "out of stock", 0),
    ("SNK-WHT-42", "Leather sneakers, white, 42", 11900, "footwear", "in stock", 5),
    ("SOCK-3PK", "Merino socks, 3-pack", 2400, "accessories", "preorder", None),
    ("SOCK-BLU-M", "Merino socks, blue, M", 1600, "accessories", "in stock", 30),
    ("JKT-PUF-BLK-M", "Insulated puffer jacket, black, M", 8900, "apparel > jackets", "in stock", 10),
    ("JKT-RAIN-BLU-L", "Waterproof rain jacket, blue, L", 11900, "apparel > jackets", "in stock", 6),
    ("JKT-FLC-GRN-M", "Fleece jacket, green, M", 5900, "apparel > jackets", "in stock", 14),
]
# What the demo shop's customers ask most, for the assistant to answer in the chat.
DEMO_FAQ = [
    (
        "Do you ship to Canada?",
        "Yes. We ship across the US and to Canada: 3 to 5 business days in the US, 5 to 8 to Canada. "
        "Shipping is free on orders over $75.",
    ),
    (
        "What is your return policy?",
        "Returns are free within 30 days of delivery, unworn and with their tags. Write to us here and "
        "we send you a prepaid label.",
    ),
    (
        "When are you open?",
        "A person answers this chat Monday to Friday, 9:00 to 18:00 New York time. The assistant is "
        "here around the clock.",
    ),
    (
        "How can I pay?",
        "By card, Apple Pay or Google Pay through a secure payment link, or in cash on delivery in "
        "New York City.",
    ),
]


def add_demo_picture(settings: Settings, products: ProductStore, product: Product) -> None:
    """Upload the product's picture and record it, as the presigned upload and the media function
    would: the product change then reaches the search indexer like any other."""
    image = ProductImage(id=uuid.uuid5(uuid.NAMESPACE_URL, product.id).hex, content_type="image/jpeg")
    aws.client("s3", settings).put_object(
        Bucket=settings.require("media_bucket"),
        Key=image_key(product.shop_id, product.id, image.id),
        Body=jpeg_bytes(demo_picture(product.retailer_id)),
        ContentType=image.content_type,
    )
    products.add_image(product.shop_id, product.id, image)


def write_customer_photos(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for retailer_id in PICTURES:
        (folder / f"{retailer_id}.jpg").write_bytes(jpeg_bytes(customer_photo(retailer_id)))


def seed_demo_data(functions: Mapping[str, LocalFunction], state_dir: Path) -> dict[str, str]:
    with environ.function_environ(dict(functions[SEED_AS].environment)):
        settings = load_settings()
        signup = register_merchant(
            MerchantStore(settings), MerchantCreate(name="Demo Merchant", email="demo@chatshop.example")
        )
        shop = create_shop(
            ShopStore(settings),
            load_rollout(settings=settings),
            settings.region,
            signup.merchant,
            ShopCreate(name="Demo Outfitters", country="US", currency="USD", timezone="America/New_York"),
        )
        connect_whatsapp(
            ChannelStore(settings),
            TokenVault(settings),
            shop.id,
            WhatsAppChannelConnect(
                phone_number_id=DEMO_PHONE_NUMBER_ID,
                waba_id=DEMO_WABA_ID,
                display_phone_number=DEMO_DISPLAY_NUMBER,
                access_token=DEMO_ACCESS_TOKEN,
            ),
            # The emulator starts after the seed and posts the demo number's webhooks to this stack.
            webhooks=None,
        )
        products = ProductStore(settings)
        for retailer_id, title, cents, category, availability, inventory in DEMO_PRODUCTS:
            fields = ProductCreate(
                retailer_id=retailer_id,
                title=title,
                price={"amount": cents, "currency": "USD"},
                category=category,
                availability=availability,
                inventory=inventory,
                brand="Demo Outfitters",
            )
            product = create_product(products, shop, fields)
            add_demo_picture(settings, products, product)
        entries = [FaqEntryInput(question=q, answer=a) for q, a in DEMO_FAQ]
        replace_faq(FaqStore(settings), shop, FaqReplace(entries=entries))
        link = demo_link(settings, shop)
    demo = {
        "merchant_id": signup.merchant.id,
        "api_key": signup.api_key,
        "shop_id": shop.id,
        "phone_number_id": DEMO_PHONE_NUMBER_ID,
        "display_phone_number": DEMO_DISPLAY_NUMBER,
        "link_url": link.url,
        "link_code": link.id,
        "offer_template": DEMO_OFFER_TEMPLATE,
    }
    # Local-only convenience: the key is stored hashed in the table; this copy lets `chatshop dev`
    # show it again after a restart. The state folder is git-ignored and readable by its owner only.
    write_customer_photos(state_dir / DEMO_PHOTOS)
    path = state_dir / DEMO_FILE
    path.write_text(json.dumps(demo))
    os.chmod(path, 0o600)
    return demo


def demo_link(settings: Settings, shop: Shop) -> Link:
    """The shop window's wa.me link to the puffer jacket, made as POST /shops/{id}/links makes it."""
    from chatshop.assistant.i18n import translator
    from chatshop.assistant.offers import link_greeting
    from chatshop.recruiting.link_store import LinkStore
    from chatshop.recruiting.links import create_link

    products = ProductStore(settings)

    class Products:
        def by_retailer_id(self, shop: Shop, retailer_id: str) -> Product | None:
            found = products.get_many(shop.id, [product_id_for(shop.id, retailer_id)])
            return next((stored.product for stored in found.values()), None)

    class Numbers:
        def display_number(self, shop_id: str) -> str | None:
            return DEMO_DISPLAY_NUMBER

    def words(shop: Shop, product: Product | None) -> str:
        return link_greeting(translator("en", shop.country), product.title if product else None)

    return create_link(
        LinkStore(settings),
        Numbers(),
        Products(),
        shop,
        LinkCreate(label=DEMO_LINK_LABEL, retailer_id=DEMO_LINK_PRODUCT),
        words,
        datetime.now(UTC),
    )


def demo_index_progress(functions: Mapping[str, LocalFunction], shop_id: str) -> tuple[int, int]:
    """How many of the demo shop's products the search indexer is done with (every picture indexed
    or rejected), of how many: read from the products themselves, where the indexer records it."""
    with environ.function_environ(dict(functions[SEED_AS].environment)):
        page = ProductStore(load_settings()).list(shop_id, limit=len(DEMO_PRODUCTS) + 50, cursor=None)
    done = sum(all(image.index_status != "pending" for image in p.images) for p in page.items)
    return done, len(page.items)
