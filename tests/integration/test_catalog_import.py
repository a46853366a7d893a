"""Catalog imports over HTTP: feeds in Meta's format, small ones in the request, large ones queued."""

from __future__ import annotations

import json

import pytest
import requests

from .conftest import Api, start_stack, wait_for

pytestmark = pytest.mark.integration

HEADER = "id,title,description,availability,condition,price,link,image_link,brand"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    """A stack of this module's own: its thousands of imported products would otherwise keep the
    shared stack's search indexer busy through the tests that follow, so its indexer stays idle."""
    stack = start_stack(tmp_path_factory.mktemp("import-state"), idle=("IndexerFunction",))
    assert stack.gateway is not None
    yield Api(stack.gateway.url)
    stack.stop(save=False)


def csv_feed(rows: int, start: int = 0, price: str = "19.99 USD") -> bytes:
    lines = [HEADER]
    for i in range(start, start + rows):
        lines.append(
            f'SKU-{i:06d},Product {i},"A product, number {i}",in stock,new,{price},'
            f"https://example.com/p/{i},https://example.com/p/{i}.jpg,Acme"
        )
    return ("\n".join(lines) + "\n").encode()


def post_feed(merchant, shop_id: str, body: bytes, content_type: str = "text/csv"):
    return merchant.post(
        f"/shops/{shop_id}/catalog/imports", raw=body, headers={"Content-Type": content_type}
    )


def test_a_small_feed_is_applied_in_the_request(merchant, shop):
    reply = post_feed(merchant, shop["id"], csv_feed(20))
    assert reply.status == 201, reply.raw
    result = reply.json
    assert result["status"] == "completed"
    assert (result["created"], result["updated"], result["unchanged"], result["rejected"]) == (20, 0, 0, [])
    listed = merchant.get(f"/shops/{shop['id']}/products?limit=100").json["items"]
    assert len(listed) == 20
    one = next(p for p in listed if p["retailer_id"] == "SKU-000003")
    assert one["price"] == {"amount": 1999, "currency": "USD"}
    assert one["description"] == "A product, number 3"
    # The result can be read again
    again = merchant.get(f"/shops/{shop['id']}/catalog/imports/{result['id']}")
    assert again.status == 200 and again.json["created"] == 20


def test_reimporting_the_same_feed_changes_nothing(merchant, shop):
    feed = csv_feed(10)
    post_feed(merchant, shop["id"], feed)
    before = merchant.get(f"/shops/{shop['id']}/products?limit=100").json["items"]
    reply = post_feed(merchant, shop["id"], feed)
    assert (reply.json["created"], reply.json["updated"], reply.json["unchanged"]) == (0, 0, 10)
    after = merchant.get(f"/shops/{shop['id']}/products?limit=100").json["items"]
    assert after == before  # same versions, same timestamps: nothing was written


def test_a_changed_row_updates_its_product(merchant, shop):
    post_feed(merchant, shop["id"], csv_feed(5))
    reply = post_feed(merchant, shop["id"], csv_feed(5, price="24.50 USD"))
    assert (reply.json["created"], reply.json["updated"], reply.json["unchanged"]) == (0, 5, 0)
    prices = {p["price"]["amount"] for p in merchant.get(f"/shops/{shop['id']}/products").json["items"]}
    assert prices == {2450}


def test_bad_rows_are_rejected_with_row_and_column_and_good_rows_still_land(merchant, shop):
    feed = "\n".join(
        [
            HEADER,
            "OK-1,Good one,,in stock,new,10.00 USD,,,",
            "BAD-1,,,in stock,new,10.00 USD,,,",
            "BAD-2,Bad price,,in stock,new,ten dollars,,,",
            "OK-1,Repeated id,,in stock,new,12.00 USD,,,",
            "BAD-3,Euro price,,in stock,new,10.00 EUR,,,",
            "BAD-4,Too many,,in stock,new,10.00 USD,,,,extra",
            "OK-2,Good two,,out of stock,used,5.00 USD,,,",
        ]
    ).encode()
    reply = post_feed(merchant, shop["id"], feed)
    assert reply.status == 201
    assert reply.json["created"] == 2
    rejected = {(r["row"], r["column"]) for r in reply.json["rejected"]}
    assert rejected == {(2, "title"), (3, "price"), (4, "id"), (5, "price"), (6, None)}


def test_a_json_feed_is_accepted(merchant, shop):
    rows = [
        {"id": "J-1", "title": "Json one", "price": "3.50 USD", "availability": "in stock"},
        {"id": "J-2", "title": "Json two", "price": {"amount": 700, "currency": "USD"}, "inventory": 3},
    ]
    reply = post_feed(merchant, shop["id"], json.dumps(rows).encode(), "application/json")
    assert reply.status == 201, reply.raw
    assert reply.json["created"] == 2 and reply.json["rejected"] == []


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"identifier,name\nA,B\n", "text/csv"),  # wrong header
        ("id,title,price\nA,Caf\xe9,1.00 USD\n".encode("latin-1"), "text/csv"),  # not UTF-8
        (b'id,title,price\n"A,B,1.00 USD\n', "text/csv"),  # unterminated quote
        (b"[{", "application/json"),  # not JSON
    ],
)
def test_an_unreadable_feed_is_422_never_500(merchant, shop, body, content_type):
    reply = post_feed(merchant, shop["id"], body, content_type)
    assert reply.status == 422, reply.raw
    assert reply.error_code == "invalid_feed"


def test_a_feed_in_another_format_is_415(merchant, shop):
    reply = post_feed(merchant, shop["id"], b"<xml/>", "application/xml")
    assert reply.status == 415


def test_a_large_feed_is_queued_and_applied_by_the_worker(merchant, shop):
    reply = post_feed(merchant, shop["id"], csv_feed(6000))
    assert reply.status == 202, reply.raw
    assert reply.json["status"] == "queued"
    path = f"/shops/{shop['id']}/catalog/imports/{reply.json['id']}"
    done = wait_for(
        lambda: (r := merchant.get(path).json)["status"] != "queued" and r, timeout=120, interval=0.5
    )
    assert done["status"] == "completed"
    assert (done["created"], done["rejected"]) == (6000, [])


def test_a_feed_uploaded_to_the_bucket_is_imported_by_its_key(merchant, shop):
    # Given a presigned upload of a feed too large for a request body
    upload = merchant.post(f"/shops/{shop['id']}/catalog/uploads", {"content_type": "text/csv"})
    assert upload.status == 201
    form = upload.json["upload"]
    sent = requests.post(
        form["url"], data=form["fields"], files={"file": ("feed.csv", csv_feed(30))}, timeout=30
    )
    assert sent.status_code in (200, 204), sent.text
    # When it is imported by its key
    reply = merchant.post(f"/shops/{shop['id']}/catalog/imports", {"upload_key": upload.json["upload_key"]})
    assert reply.status == 202
    path = f"/shops/{shop['id']}/catalog/imports/{reply.json['id']}"
    done = wait_for(
        lambda: (r := merchant.get(path).json)["status"] != "queued" and r, timeout=60, interval=0.3
    )
    # Then its rows are products
    assert done["status"] == "completed" and done["created"] == 30


def test_an_upload_key_of_another_shop_is_refused(merchant, shop):
    reply = merchant.post(
        f"/shops/{shop['id']}/catalog/imports", {"upload_key": "uploads/someone-else/0123456789abcdef"}
    )
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] == ["upload_key"]
