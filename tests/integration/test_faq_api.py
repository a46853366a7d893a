"""A shop's FAQ over HTTP: read, replace whole, replace conditionally; what bad input gets."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from chatshop.platform.config import load_settings
from chatshop.shops.faq_store import FaqStore, FaqTooLarge

from .conftest import open_shop, sign_up, wait_for

pytestmark = pytest.mark.integration

SHIPPING = {"question": "Do you ship internationally?", "answer": "Yes, to 40 countries, in 5-10 days."}
RETURNS = {"question": "What is your return policy?", "answer": "30 days, unworn, with the receipt."}
HOURS = {"question": "When are you open?", "answer": "Monday to Saturday, 9am to 6pm."}


def faq_path(shop):
    return f"/shops/{shop['id']}/faq"


def test_a_shop_without_an_faq_has_an_empty_one(merchant, shop):
    reply = merchant.get(faq_path(shop))
    assert reply.status == 200
    assert reply.json == {"shop_id": shop["id"], "entries": [], "version": 0, "updated_at": None}
    assert reply.headers["ETag"] == f'"{shop["id"]}-faq-v0"'


def test_replace_the_faq_and_read_it_back(merchant, shop):
    # Given an FAQ sent with stray spacing around its text
    sent = [{"question": "  Do you ship internationally? ", "answer": SHIPPING["answer"] + "\n"}, RETURNS]
    reply = merchant.request("PUT", faq_path(shop), {"entries": sent})

    # Then it is stored trimmed, in the merchant's order, as version 1
    assert reply.status == 200, reply.raw
    assert reply.json["entries"] == [SHIPPING, RETURNS]
    assert reply.json["version"] == 1 and reply.json["updated_at"]
    assert reply.headers["ETag"] == f'"{shop["id"]}-faq-v1"'
    fetched = merchant.get(faq_path(shop))
    assert fetched.json == reply.json
    assert fetched.headers["ETag"] == reply.headers["ETag"]


def test_a_replace_is_whole_and_an_empty_list_empties_the_faq(merchant, shop):
    merchant.request("PUT", faq_path(shop), {"entries": [SHIPPING, RETURNS]})
    second = merchant.request("PUT", faq_path(shop), {"entries": [HOURS]})
    assert second.json["entries"] == [HOURS] and second.json["version"] == 2
    emptied = merchant.request("PUT", faq_path(shop), {"entries": []})
    assert emptied.status == 200
    assert merchant.get(faq_path(shop)).json["entries"] == []
    assert merchant.get(faq_path(shop)).json["version"] == 3


def test_if_match_makes_a_replace_conditional(merchant, shop):
    path = faq_path(shop)
    # The first write may be made conditional on there being no FAQ yet
    etag_v0 = merchant.get(path).headers["ETag"]
    first = merchant.request("PUT", path, {"entries": [SHIPPING]}, headers={"If-Match": etag_v0})
    assert first.status == 200 and first.json["version"] == 1
    # A second editor still holding the old ETag is refused: no silent overwrite
    stale = merchant.request("PUT", path, {"entries": [HOURS]}, headers={"If-Match": etag_v0})
    assert stale.status == 412 and stale.error_code == "precondition_failed"
    # The current ETag, weak or strong, is accepted
    weak = merchant.request(
        "PUT", path, {"entries": [RETURNS]}, headers={"If-Match": f"W/{first.headers['ETag']}"}
    )
    assert weak.status == 200 and weak.json["version"] == 2
    assert merchant.get(path).json["entries"] == [RETURNS]


@pytest.mark.parametrize("if_match", ['"faq-v1"', "1", '"{other}-faq-v1"', "not an etag"])
def test_an_if_match_that_is_not_this_faqs_etag_never_matches(merchant, shop, if_match):
    other = open_shop(merchant)
    merchant.request("PUT", faq_path(shop), {"entries": [SHIPPING]})
    reply = merchant.request(
        "PUT", faq_path(shop), {"entries": [HOURS]}, headers={"If-Match": if_match.format(other=other["id"])}
    )
    assert reply.status == 412
    assert merchant.get(faq_path(shop)).json["entries"] == [SHIPPING]


def test_if_match_star_and_no_if_match_replace_whatever_is_there(merchant, shop):
    merchant.request("PUT", faq_path(shop), {"entries": [SHIPPING]})
    starred = merchant.request("PUT", faq_path(shop), {"entries": [RETURNS]}, headers={"If-Match": "*"})
    assert starred.status == 200 and starred.json["version"] == 2
    plain = merchant.request("PUT", faq_path(shop), {"entries": [HOURS]})
    assert plain.status == 200 and plain.json["version"] == 3


def test_concurrent_replaces_each_get_their_own_version(merchant, shop):
    # Given eight merchants' tools writing at once without If-Match
    bodies = [{"entries": [{"question": f"Question {i}?", "answer": f"Answer {i}."}]} for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda body: merchant.request("PUT", faq_path(shop), body), bodies))
    # Then every write took effect once, in some order: no version was handed out twice
    assert [reply.status for reply in replies] == [200] * 8
    assert sorted(reply.json["version"] for reply in replies) == list(range(1, 9))
    last = max(replies, key=lambda reply: reply.json["version"])
    assert merchant.get(faq_path(shop)).json["entries"] == last.json["entries"]


def test_concurrent_replaces_with_the_same_etag_let_exactly_one_through(merchant, shop):
    etag = merchant.request("PUT", faq_path(shop), {"entries": [SHIPPING]}).headers["ETag"]
    bodies = [{"entries": [{"question": f"Question {i}?", "answer": f"Answer {i}."}]} for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(
            pool.map(
                lambda body: merchant.request("PUT", faq_path(shop), body, headers={"If-Match": etag}), bodies
            )
        )
    assert sorted(reply.status for reply in replies) == [200] + [412] * 5
    winner = next(reply for reply in replies if reply.status == 200)
    assert merchant.get(faq_path(shop)).json == winner.json


def entry(question="Do you ship?", answer="Yes."):
    return {"question": question, "answer": answer}


@pytest.mark.parametrize(
    "entries, field",
    [
        ([entry(f"Question {i}?") for i in range(101)], "entries"),
        ([entry(question="   ")], "entries.0.question"),
        ([entry(question="")], "entries.0.question"),
        ([entry(answer="\n\t ")], "entries.0.answer"),
        ([entry(question="q" * 301)], "entries.0.question"),
        ([entry(answer="a" * 1001)], "entries.0.answer"),
        ([entry(), {"question": "Where are you?"}], "entries.1.answer"),
        ([entry(), {**entry("Where are you?"), "url": "https://example.com"}], "entries.1.url"),
        ([entry(question=42)], "entries.0.question"),
        ([entry("Do you ship?"), entry("Returns?"), entry("  DO YOU   ship? ")], "entries.2.question"),
        ("Do you ship?", "entries"),
    ],
)
def test_bad_faq_input_is_422_naming_the_field(merchant, shop, entries, field):
    reply = merchant.request("PUT", faq_path(shop), {"entries": entries})
    assert reply.status == 422, reply.raw
    assert reply.json["error"]["details"]["fields"] == [field]
    assert merchant.get(faq_path(shop)).json["version"] == 0


def test_the_longest_questions_and_answers_fit(merchant, shop):
    # 300 and 1,000 characters exactly, as customers' phones show them
    longest = [entry(f"{i:03d}" + "q" * 297, "a" * 1000) for i in range(100)]
    reply = merchant.request("PUT", faq_path(shop), {"entries": longest})
    assert reply.status == 200, reply.raw
    assert merchant.get(faq_path(shop)).json["entries"] == longest


def test_a_full_faq_of_four_byte_characters_is_stored_and_read_back_whole(merchant, shop):
    # The least compressible FAQ the rules allow: 100 entries at their longest, of random characters
    # from the supplementary planes (four UTF-8 bytes each: 520 KB of text unpacked)
    rng = random.Random(7)

    def text(length):
        return "".join(chr(rng.randrange(0x10000, 0x10FFFF)) for _ in range(length))

    entries = [entry(text(300), text(1000)) for _ in range(100)]
    reply = merchant.request("PUT", faq_path(shop), {"entries": entries})
    assert reply.status == 200, reply.raw
    assert merchant.get(faq_path(shop)).json["entries"] == entries


def test_the_store_refuses_an_faq_too_large_for_one_item(shops_environ, merchant, shop):
    # More than the API's rules allow, written straight to the store: the item limit still holds
    rng = random.Random(11)
    entries = [
        (f"Q{i}?", "".join(chr(rng.randrange(0x10000, 0x10FFFF)) for _ in range(1300))) for i in range(120)
    ]
    store = FaqStore(load_settings())
    with pytest.raises(FaqTooLarge):
        store.put(shop["id"], entries, datetime.now(UTC), expected_version=None)
    assert store.get(shop["id"]) is None


def test_a_body_that_is_not_json_is_400(merchant, shop):
    reply = merchant.request(
        "PUT", faq_path(shop), raw=b"{entries:", headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400 and reply.error_code == "malformed_json"


def test_the_faq_needs_credentials(api, shop):
    assert api.get(faq_path(shop)).status == 401
    assert api.request("PUT", faq_path(shop), {"entries": [SHIPPING]}).status == 401


def test_another_merchants_faq_is_neither_read_nor_replaced(api, merchant, shop):
    # Given the owner's FAQ
    owned = merchant.request("PUT", faq_path(shop), {"entries": [SHIPPING]})
    intruder = sign_up(api, "Intruder")
    # When another merchant reads it, or replaces it even with its current ETag
    read = intruder.get(faq_path(shop))
    written = intruder.request(
        "PUT", faq_path(shop), {"entries": [HOURS]}, headers={"If-Match": owned.headers["ETag"]}
    )
    # Then both are forbidden and the FAQ is as the owner left it
    assert (read.status, read.error_code) == (403, "forbidden")
    assert (written.status, written.error_code) == (403, "forbidden")
    assert merchant.get(faq_path(shop)).json == owned.json


def test_a_closed_shops_faq_is_gone_with_it(app_stack, merchant, shop):
    merchant.request("PUT", faq_path(shop), {"entries": [SHIPPING]})
    assert merchant.delete(f"/shops/{shop['id']}").status == 204
    assert merchant.get(faq_path(shop)).status == 404
    assert merchant.request("PUT", faq_path(shop), {"entries": [HOURS]}).status == 404

    dynamodb = app_stack.clients.client("dynamodb")
    table = app_stack.stack.physical_id("ShopsTable")

    def faq_item_is_purged():
        key = {"pk": {"S": f"SHOP#{shop['id']}"}, "sk": {"S": "FAQ"}}
        return "Item" not in dynamodb.get_item(TableName=table, Key=key)

    wait_for(faq_item_is_purged)
