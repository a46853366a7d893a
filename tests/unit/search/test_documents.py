"""What of a product is embedded, and when it counts as changed."""

from __future__ import annotations

from datetime import UTC, datetime

from chatshop.search.documents import (
    embedded_text,
    image_object_key,
    image_vector_key,
    product_document,
    product_id_of,
)
from chatshop.shops.domain import Product, ProductImage
from chatshop.shops.money import Money

SHOP = "a" * 32
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def product(**fields) -> Product:
    values = {
        "id": "p" + "1" * 31,
        "shop_id": SHOP,
        "retailer_id": "SKU-1",
        "title": "  Trail Runner  ",
        "brand": "Acme",
        "description": "Light shoes for rough ground.",
        "price": Money(amount=5999, currency="USD"),
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Product(**values)


def test_the_text_is_title_brand_and_description_trimmed():
    assert embedded_text(product()) == "Trail Runner. Acme. Light shoes for rough ground."
    assert embedded_text(product(brand=None, description="")) == "Trail Runner"


def test_price_and_availability_do_not_change_the_text_hash_but_words_do():
    base = product_document(product(), "US")
    assert product_document(product(price=Money(amount=1, currency="USD")), "US").text_hash == base.text_hash
    assert product_document(product(availability="out of stock"), "US").text_hash == base.text_hash
    assert product_document(product(title="Road Runner"), "US").text_hash != base.text_hash
    assert product_document(product(description="Heavy boots."), "US").text_hash != base.text_hash


def test_metadata_carries_shop_country_and_whether_it_can_be_bought():
    assert product_document(product(), "CA").metadata.country == "CA"
    assert product_document(product(availability="preorder"), "US").metadata.in_stock is True
    assert product_document(product(availability="out of stock"), "US").metadata.in_stock is False
    assert product_document(product(availability="discontinued"), "US").metadata.in_stock is False


def test_images_are_listed_in_a_stable_order_with_their_bucket_keys():
    images = [
        ProductImage(id="b" * 32, content_type="image/png"),
        ProductImage(id="a" * 32, content_type="image/jpeg"),
    ]
    document = product_document(product(images=images), "US")
    assert document.image_ids == ("a" * 32, "b" * 32)
    assert image_object_key(document, "a" * 32) == f"shops/{SHOP}/products/{'p' + '1' * 31}/images/{'a' * 32}"


def test_an_image_vector_key_leads_back_to_its_product():
    key = image_vector_key("p123", "img9")
    assert key == "p123:img9"
    assert product_id_of(key) == "p123"
    assert product_id_of("p123") == "p123"
