"""A customer sends a shop a photo of one of its products in WhatsApp and gets that product back, in
the conversation's language."""

from __future__ import annotations

import io
import json
import random
import secrets
import uuid

import pytest
import requests
from PIL import Image

from chatshop.assistant import phrases
from chatshop.assistant.i18n import translator
from chatshop_local.graph_emulator import image_message
from chatshop_local.sqs_poller import lambda_record

from ..unit.search.test_local_features import in_a_scene, product_picture, rotation
from .conftest import Api, add_product, connect_fixture_shop, open_shop, start_stack, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app_stack(tmp_path_factory):
    """A stack of this module's own. A region's visual vocabulary is learned once, from the first
    images it indexes, and never relearned: on the shared stack those would be whatever other tests
    indexed first (flat test pictures that teach it nothing), so these photographs must come first."""
    stack = start_stack(tmp_path_factory.mktemp("visual-search-state"))
    yield stack
    stack.stop(save=False)


@pytest.fixture(scope="module")
def fixture_shop(app_stack):
    """The shop on the fixture files' number, on this module's stack."""
    return connect_fixture_shop(app_stack)


@pytest.fixture(scope="module")
def api(app_stack) -> Api:
    return Api(app_stack.gateway.url)

# The first photo of a test run loads the models (and builds the tiny CLIP): give it time.
MODEL_TIMEOUT_S = 180


def photo(seed: int) -> bytes:
    """A picture no other product of the test shares: random coloured blocks."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 96))
    for x in range(0, 96, 12):
        for y in range(0, 96, 12):
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            image.paste(colour, (x, y, x + 12, y + 12))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def new_number() -> str:
    return str(10**14 + secrets.randbelow(10**14))


def new_customer() -> str:
    return "1555" + str(secrets.randbelow(10**7)).zfill(7)


def connect(merchant, shop_id: str, catalog_id: str | None = None) -> str:
    number = new_number()
    request = {
        "phone_number_id": number,
        # A business account of its own: Meta takes a token only for the accounts it may manage.
        "waba_id": str(10**14 + secrets.randbelow(10**14)),
        "display_phone_number": "+1 555 010 2030",
        "access_token": "EAAG" + secrets.token_hex(24),
    }
    if catalog_id is not None:
        request["catalog_id"] = catalog_id
    reply = merchant.request("PUT", f"/shops/{shop_id}/channels/whatsapp", request)
    assert reply.status == 200, reply.raw
    return number


def product_with_photo(
    app_stack, merchant, shop_id: str, retailer_id: str, title: str, picture: bytes
) -> dict:
    """A product whose photo was uploaded and has reached the search index."""
    product = add_product(merchant, shop_id, retailer_id, title=title).json
    path = f"/shops/{shop_id}/products/{product['id']}"
    upload = merchant.post(f"{path}/images", {"content_type": "image/png"}).json["upload"]
    fields = {**upload["fields"], "Content-Type": "image/png"}
    posted = requests.post(upload["url"], data=fields, files={"file": ("photo.png", picture)}, timeout=30)
    assert posted.status_code in (200, 204), posted.text
    wait_for(lambda: merchant.get(path).json["images"])
    # The change reaches the indexer through the shops table's stream; queued here as well, so this
    # test is about the chat and not the stream (the indexer makes a second event change nothing).
    index_queue = app_stack.stack.physical_id("IndexQueue")
    event = {"event": "ProductModified", "shop_id": shop_id, "product_id": product["id"]}
    app_stack.clients.client("sqs").send_message(QueueUrl=index_queue, MessageBody=json.dumps(event))
    wait_for(
        lambda: [i for i in merchant.get(path).json["images"] if i.get("index_status") == "indexed"],
        timeout=MODEL_TIMEOUT_S,
    )
    return product


def send_photo(app_stack, number: str, customer: str, picture: bytes, content_type: str = "image/png") -> str:
    """The customer's photo, sent as Meta delivers it; the id of the customer's message."""
    media_id = app_stack.graph.store_media(number, picture, content_type)
    body = app_stack.graph.send_customer_message(number, customer, "Ana", image_message(media_id))
    return body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]


def replies_to(app_stack, customer: str, message_id: str) -> list[dict]:
    return [
        m
        for m in app_stack.graph.outbox(to=customer)
        if m["body"].get("context", {}).get("message_id") == message_id
    ]


def answer_to(app_stack, customer: str, message_id: str) -> dict:
    return wait_for(lambda: replies_to(app_stack, customer, message_id), timeout=MODEL_TIMEOUT_S)[0]


@pytest.fixture
def mugs(app_stack, merchant):
    """A shop with two products and their photos, in the search index."""
    shop = open_shop(merchant, name="Mug Shop")
    red = product_with_photo(app_stack, merchant, shop["id"], "MUG-RED-1", "Red stoneware mug", photo(1))
    blue = product_with_photo(app_stack, merchant, shop["id"], "MUG-BLUE-2", "Blue enamel mug", photo(2))
    return shop, red, blue


def test_a_photo_of_a_product_gets_it_back_in_a_multi_product_message(app_stack, merchant, mugs):
    # Given a shop whose channel has a WhatsApp catalog
    shop, _, blue = mugs
    number = connect(merchant, shop["id"], catalog_id="354160437058781")
    customer = new_customer()
    # When a customer sends the photo of the blue mug
    message_id = send_photo(app_stack, number, customer, photo(2))
    # Then the answer is a product list of the catalog with the blue mug first
    answer = answer_to(app_stack, customer, message_id)
    interactive = answer["body"]["interactive"]
    assert interactive["type"] == "product_list"
    assert interactive["action"]["catalog_id"] == "354160437058781"
    items = [
        item["product_retailer_id"] for s in interactive["action"]["sections"] for item in s["product_items"]
    ]
    assert items[0] == blue["retailer_id"]


def test_without_a_catalog_the_best_match_comes_as_its_picture_with_title_and_price(
    app_stack, merchant, mugs
):
    shop, red, _ = mugs
    number = connect(merchant, shop["id"])
    customer = new_customer()

    message_id = send_photo(app_stack, number, customer, photo(1))

    answer = answer_to(app_stack, customer, message_id)
    assert answer["type"] == "image"
    caption = answer["body"]["image"]["caption"]
    assert caption.splitlines()[:2] == [
        "This is what we found for your photo:",
        "1. Red stoneware mug - $19.99",
    ]
    # The picture is the product's own, served by the media bucket
    assert requests.get(answer["body"]["image"]["link"], timeout=10).content == photo(1)
    assert red["id"] in answer["body"]["image"]["link"]


def test_a_file_that_is_not_a_picture_gets_a_friendly_text(app_stack, merchant):
    shop = open_shop(merchant, name="Any Shop")
    number = connect(merchant, shop["id"])
    customer = new_customer()

    message_id = send_photo(app_stack, number, customer, b"%PDF-1.7 this is no photo", "image/jpeg")

    answer = answer_to(app_stack, customer, message_id)
    assert answer["body"]["text"]["body"] == translator("en").text(phrases.PHOTO_UNREADABLE)


def test_a_mexican_shop_s_customer_is_answered_in_spanish(app_stack, merchant):
    # Given a shop in Mexico, which speaks Spanish when its customer has not written yet
    shop = open_shop(merchant, name="Tienda Sol", country="MX", currency="MXN")
    number = connect(merchant, shop["id"])
    customer = new_customer()
    # When its customer sends a file that is no picture
    message_id = send_photo(app_stack, number, customer, b"%PDF-1.7 esto no es una foto", "image/jpeg")
    # Then the photo search says so in Spanish
    answer = answer_to(app_stack, customer, message_id)
    assert answer["body"]["text"]["body"] == (
        "Perdón, no pudimos abrir esa foto. Por favor, envíala de nuevo como imagen JPEG, PNG o WebP."
    )


def test_a_photo_job_handled_twice_is_answered_once(app_stack, merchant):
    # Given a photo the customer sent, answered by the worker
    shop = open_shop(merchant, name="Twice Shop")
    number = connect(merchant, shop["id"])
    customer = new_customer()
    message_id = send_photo(app_stack, number, customer, photo(3))
    answer_to(app_stack, customer, message_id)
    # When its job is handed to the worker again (as SQS may)
    job = {
        "shop_id": shop["id"],
        "phone_number_id": number,
        "customer": customer,
        "media_key": stored_photo_key(app_stack, number),
        "reply_to": message_id,
    }
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "test",
        "Body": json.dumps(job),
        "Attributes": {},
    }
    event = {
        "Records": [lambda_record(message, "arn:aws:sqs:us-east-1:123456789012:photo-search", "us-east-1")]
    }
    assert app_stack.invoke("PhotoSearchFunction", event).payload == {"batchItemFailures": []}
    # Then the customer still has one answer to the photo
    assert len(replies_to(app_stack, customer, message_id)) == 1
    outbound = app_stack.clients.client("dynamodb").get_item(
        TableName=app_stack.stack.physical_id("MessagingTable"),
        Key={"pk": {"S": f"OUTBOUND#photo-{message_id}"}, "sk": {"S": "MSG"}},
    )["Item"]
    assert json.loads(outbound["record"]["S"])["status"] in ("accepted", "sent", "delivered", "read")


def stored_photo_key(app_stack, number: str) -> str:
    """The key the inbound worker kept the number's one customer photo under."""
    s3 = app_stack.clients.client("s3")
    listed = s3.list_objects_v2(
        Bucket=app_stack.stack.physical_id("MediaBucket"), Prefix=f"whatsapp-media/{number}/"
    )
    (only,) = listed["Contents"]
    return only["Key"]


def jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.mark.parametrize("change", [rotation, in_a_scene], ids=["rotation", "scene"])
def test_a_customer_s_own_photo_of_a_photographed_product_finds_that_product(app_stack, merchant, change):
    # Given a shop whose products are photographs of printed packages
    shop = open_shop(merchant, name="Pantry Shop")
    pictures = {seed: product_picture(seed) for seed in (41, 42)}
    tea = product_with_photo(app_stack, merchant, shop["id"], "TEA-41", "Green tea", png_of(pictures[41]))
    product_with_photo(app_stack, merchant, shop["id"], "JAM-42", "Plum jam", png_of(pictures[42]))
    number = connect(merchant, shop["id"])
    customer = new_customer()

    # When a customer sends a photo of the tea of their own: turned, or the tea small in a room
    message_id = send_photo(app_stack, number, customer, jpeg(change(pictures[41])), "image/jpeg")

    # Then the tea is the answer, and the jam (which did not verify) is not listed beside it
    answer = answer_to(app_stack, customer, message_id)
    caption = answer["body"]["image"]["caption"]
    assert caption.splitlines()[1:] == ["1. Green tea - $19.99"]
    assert tea["id"] in answer["body"]["image"]["link"]


def test_a_flat_photo_gets_the_no_match_sentence(app_stack, merchant, mugs):
    shop, _, _ = mugs
    number = connect(merchant, shop["id"])
    customer = new_customer()

    message_id = send_photo(
        app_stack, number, customer, jpeg(Image.new("RGB", (640, 480), "navy")), "image/jpeg"
    )

    answer = answer_to(app_stack, customer, message_id)
    assert answer["body"]["text"]["body"] == translator("en").text(phrases.PHOTO_NO_MATCH)


def png_of(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
