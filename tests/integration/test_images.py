"""Product images: presigned uploads to the bucket, recorded on the product by the media function."""

from __future__ import annotations

import pytest
import requests

from .conftest import add_product, wait_for

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256 + b"\xff\xd9"


def request_upload(merchant, shop_id: str, product_id: str, content_type: str):
    return merchant.post(f"/shops/{shop_id}/products/{product_id}/images", {"content_type": content_type})


def upload(form: dict, content: bytes, content_type: str) -> requests.Response:
    fields = {**form["fields"], "Content-Type": content_type}
    return requests.post(form["url"], data=fields, files={"file": ("photo", content)}, timeout=30)


def test_an_uploaded_image_is_listed_on_its_product(merchant, shop):
    product = add_product(merchant, shop["id"], "IMG-1").json
    # Given a presigned upload for a JPEG
    reply = request_upload(merchant, shop["id"], product["id"], "image/jpeg")
    assert reply.status == 201
    assert reply.json["upload"]["method"] == "POST"
    # When the client uploads the photo straight to the bucket
    assert upload(reply.json["upload"], JPEG, "image/jpeg").status_code in (200, 204)
    # Then the media function records it, and the product lists it with a URL that serves it
    path = f"/shops/{shop['id']}/products/{product['id']}"
    images = wait_for(lambda: merchant.get(path).json["images"])
    assert [(i["id"], i["content_type"]) for i in images] == [(reply.json["image_id"], "image/jpeg")]
    assert requests.get(images[0]["url"], timeout=10).content == JPEG


@pytest.mark.parametrize("content_type", ["image/gif", "application/pdf", "text/html"])
def test_only_jpeg_png_and_webp_may_be_uploaded(merchant, shop, content_type):
    product = add_product(merchant, shop["id"], f"IMG-{content_type.split('/')[1]}").json
    reply = request_upload(merchant, shop["id"], product["id"], content_type)
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] == ["content_type"]


def test_an_image_for_a_missing_product_is_404(merchant, shop):
    reply = request_upload(merchant, shop["id"], "p" + "0" * 31, "image/png")
    assert reply.status == 404


def test_an_object_that_is_not_an_accepted_image_is_removed_not_listed(app_stack, merchant, shop):
    # Given an object under a product's image key that is not an image (as if the policy were bypassed)
    product = add_product(merchant, shop["id"], "IMG-EVIL").json
    image_id = request_upload(merchant, shop["id"], product["id"], "image/png").json["image_id"]
    key = f"shops/{shop['id']}/products/{product['id']}/images/{image_id}"
    s3 = app_stack.clients.client("s3")
    bucket = app_stack.stack.physical_id("MediaBucket")
    s3.put_object(Bucket=bucket, Key=key, Body=b"<script>", ContentType="text/html")
    # Then the media function deletes it, and the product never lists it
    wait_for(lambda: "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key))
    assert merchant.get(f"/shops/{shop['id']}/products/{product['id']}").json["images"] == []
