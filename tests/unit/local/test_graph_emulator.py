"""The Graph API emulator answers, fails, rate-limits and posts webhooks as Meta's Cloud API does.

Real servers on loopback: the emulator on a free port, and a small receiver standing in for chatshop's
webhook, which records what it is sent. No mocks; every wait is bounded.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chatshop_local.emulator import free_port
from chatshop_local.graph_emulator import (
    GraphEmulator,
    button_reply,
    image_message,
    order_message,
    text_message,
)
from tests.conftest import WHATSAPP_FIXTURES

FIXTURES = WHATSAPP_FIXTURES
APP_SECRET = "local-app-secret"
TOKEN = "EAAG-local-token"
OTHER_TOKEN = "EAAG-other-token"
NUMBER_ID = "1122334455667"
OTHER_NUMBER_ID = "9988776655443"
DISPLAY_NUMBER = "15550001111"
CUSTOMER = "15551234567"
WAIT_S = 5.0


# ---------------------------------------------------------------------------------------------------------
# Fixtures: a settable clock, a webhook receiver, the emulator, and an HTTP client
# ---------------------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """chatshop's webhook, reduced to recording what arrives; it can refuse the first few posts."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[Delivery] = queue.Queue()
        self.refuse_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = 200
                if receiver.refuse_next > 0:
                    receiver.refuse_next -= 1
                    status = 503
                else:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.deliveries.put(Delivery(headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/whatsapp"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next(self) -> Delivery:
        return self.deliveries.get(timeout=WAIT_S)


class Client:
    """A keep-alive HTTP client of the emulator, as the sender function would be."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=WAIT_S)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | dict[str, Any] | None = None,
        *,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        self._connection.request(method, path, body=body, headers=all_headers)
        response = self._connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        status, _headers, raw = self.call(method, path, body, **kwargs)
        return status, json.loads(raw)

    def send(self, message: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return self.json("POST", f"/v21.0/{NUMBER_ID}/messages", message, **kwargs)

    def close(self) -> None:
        self._connection.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def _emulator(clock: FakeClock, webhook_url: str | None, port: int | None = None) -> GraphEmulator:
    emulator = GraphEmulator(
        "127.0.0.1",
        port or free_port(),
        webhook_url,
        APP_SECRET,
        clock=clock,
        status_delay_s=0.01,
        webhook_retry_delays_s=(0.02, 0.05, 0.1),
    )
    emulator.register_number(NUMBER_ID, f"+{DISPLAY_NUMBER}", TOKEN, waba_id="1234567890987654")
    emulator.register_number(OTHER_NUMBER_ID, "15550002222", OTHER_TOKEN)
    return emulator


@pytest.fixture
def emulator(clock: FakeClock, receiver: WebhookReceiver) -> Iterator[GraphEmulator]:
    emulator = _emulator(clock, receiver.url)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emulator: GraphEmulator) -> Iterator[Client]:
    client = Client(emulator.url)
    yield client
    client.close()


def text(body: str = "Hello from the shop", to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def interactive(payload: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive", "interactive": payload}


def buttons(*titles: str, ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids or [f"b{i}" for i in range(len(titles))]
    return interactive(
        {
            "type": "button",
            "body": {"text": "Pick one"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": i, "title": t}}
                    for i, t in zip(ids, titles, strict=True)
                ]
            },
        }
    )


def list_message(sections: list[dict[str, Any]]) -> dict[str, Any]:
    return interactive(
        {
            "type": "list",
            "body": {"text": "Our menu"},
            "action": {"button": "See options", "sections": sections},
        }
    )


def rows(count: int, title: str = "Row") -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "title": title} for i in range(count)]


def product_list(items: int, *, header: bool = True) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "product_list",
        "body": {"text": "Our picks"},
        "action": {
            "catalog_id": "354160437058781",
            "sections": [
                {
                    "title": "Picks",
                    "product_items": [{"product_retailer_id": f"SKU{i}"} for i in range(items)],
                }
            ],
        },
    }
    if header:
        payload["header"] = {"type": "text", "text": "Shop"}
    return interactive(payload)


def signed_by_app_secret(delivery: Delivery) -> bool:
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(delivery.headers.get("x-hub-signature-256", ""), expected)


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys all the way down, scalars as their type names."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_bytes())


# ---------------------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------------------


def test_an_accepted_text_message_is_answered_like_meta_and_kept_in_the_outbox(
    emulator: GraphEmulator, client: Client, clock: FakeClock
) -> None:
    status, body = client.send(text(to=f"+{CUSTOMER}"))

    assert status == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": f"+{CUSTOMER}", "wa_id": CUSTOMER}]
    [message] = body["messages"]
    assert message["id"].startswith("wamid.") and len(message["id"]) > 30
    [entry] = emulator.outbox(to=CUSTOMER)
    assert entry["id"] == message["id"]
    assert entry["to"] == CUSTOMER and entry["type"] == "text" and entry["phone_number_id"] == NUMBER_ID
    assert entry["body"]["text"] == {"body": "Hello from the shop"}
    assert entry["timestamp"] == int(clock.now)
    status, listed = client.json("GET", f"/_emulator/outbox?to={CUSTOMER}", token=None)
    assert status == 200 and [m["id"] for m in listed["messages"]] == [message["id"]]
    assert emulator.outbox(to="15559999999") == []


def test_a_template_message_is_accepted_with_its_message_status(client: Client) -> None:
    template = {"name": "order_update", "language": {"code": "en_US"}}
    status, body = client.send(
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": template}
    )

    assert status == 200
    assert body["messages"][0]["message_status"] == "accepted"


def test_marking_an_inbound_message_read_succeeds_and_sends_nothing(
    emulator: GraphEmulator, client: Client
) -> None:
    status, body = client.send({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.abc"})

    assert (status, body) == (200, {"success": True})
    assert emulator.outbox() == []


@pytest.mark.parametrize(
    ("message", "code"),
    [
        pytest.param(buttons("One", "Two", "Three", "Four"), 131009, id="four buttons"),
        pytest.param(buttons("x" * 21), 131009, id="21-character button title"),
        pytest.param(buttons("One", "Two", ids=["same", "same"]), 131009, id="duplicate button ids"),
        pytest.param(list_message([{"title": "All", "rows": rows(11)}]), 131009, id="11 rows"),
        pytest.param(
            list_message([{"title": "A", "rows": rows(6)}, {"title": "B", "rows": rows(5)}]),
            131009,
            id="11 rows over two sections",
        ),
        pytest.param(list_message([{"rows": rows(1, "y" * 25)}]), 131009, id="25-character row title"),
        pytest.param(list_message([{"rows": rows(1)}, {"rows": rows(1)}]), 131008, id="untitled sections"),
        pytest.param(product_list(31), 131009, id="31 products"),
        pytest.param(product_list(3, header=False), 131008, id="product list without header"),
        pytest.param({**text(), "messaging_product": "sms"}, 100, id="bad messaging_product"),
        pytest.param(
            {k: v for k, v in text().items() if k != "messaging_product"}, 100, id="no messaging_product"
        ),
        pytest.param(text(to="+1 555 123"), 100, id="recipient not digits"),
        pytest.param(text(body="x" * 4097), 100, id="text over 4096 characters"),
        pytest.param(text(body=""), 100, id="empty text"),
        pytest.param({**text(), "type": "hologram"}, 100, id="unknown type"),
        pytest.param(
            {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"caption": "hi"}},
            100,
            id="image without id or link",
        ),
        pytest.param(
            {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": {"name": "t"}},
            100,
            id="template without language",
        ),
    ],
)
def test_what_meta_rejects_is_rejected_with_its_code(
    emulator: GraphEmulator, client: Client, message: dict[str, Any], code: int
) -> None:
    status, body = client.send(message)

    assert status == 400
    error = body["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
    assert error["fbtrace_id"]
    assert emulator.outbox() == []


def test_the_limits_themselves_are_accepted(client: Client) -> None:
    accepted = [
        buttons("One", "Two", "x" * 20),
        list_message(
            [{"title": "A", "rows": rows(5)}, {"title": "B", "rows": [{"id": "z", "title": "y" * 24}]}]
        ),
        product_list(30),
        text(body="x" * 4096),
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "image",
            "image": {"link": "https://x.test/a.jpg"},
        },
    ]
    for message in accepted:
        status, body = client.send(message)
        assert status == 200, body


@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["missing token", "wrong token"])
def test_a_missing_or_wrong_token_is_answered_401_with_code_190(client: Client, token: str | None) -> None:
    status, headers, raw = client.call("POST", f"/v21.0/{NUMBER_ID}/messages", text(), token=token)

    assert status == 401
    error = json.loads(raw)["error"]
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert "invalid_token" in headers["www-authenticate"]


@pytest.mark.parametrize(
    ("number_id", "token"),
    [("404404404", TOKEN), (NUMBER_ID, OTHER_TOKEN)],
    ids=["unknown number", "number of another token"],
)
def test_a_number_the_token_cannot_see_is_an_unsupported_post_request(
    client: Client, number_id: str, token: str
) -> None:
    status, body = client.json("POST", f"/v21.0/{number_id}/messages", text(), token=token)

    assert status == 400
    error = body["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")
    assert error["message"].startswith(f"Unsupported post request. Object with ID '{number_id}'")


# ---------------------------------------------------------------------------------------------------------
# Faults and rate limits
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [130429, 131056, 131047])
def test_an_injected_fault_fails_the_next_sends_then_sending_works_again(
    emulator: GraphEmulator, client: Client, code: int
) -> None:
    status, _ = client.json(
        "POST", "/_emulator/faults", {"phone_number_id": NUMBER_ID, "code": code, "count": 2}
    )
    assert status == 200

    first, second, third = client.send(text()), client.send(text()), client.send(text())

    for status, body in (first, second):
        assert status == 400
        assert body["error"]["code"] == code
        assert body["error"]["error_data"]["messaging_product"] == "whatsapp"
    assert third[0] == 200
    assert [entry["id"] for entry in emulator.outbox()] == [third[1]["messages"][0]["id"]]


def test_fault_500_is_a_plain_transient_graph_error(client: Client) -> None:
    client.json("POST", "/_emulator/faults", {"phone_number_id": NUMBER_ID, "code": 500, "count": 1})

    status, body = client.send(text())

    assert status == 500
    assert body["error"]["is_transient"] is True and "error_data" not in body["error"]
    assert client.send(text())[0] == 200


def test_faults_can_be_cleared_and_only_touch_their_number(client: Client) -> None:
    client.json("POST", "/_emulator/faults", {"phone_number_id": OTHER_NUMBER_ID, "code": 130429, "count": 5})
    assert client.send(text())[0] == 200

    client.json("POST", "/_emulator/faults", {"phone_number_id": NUMBER_ID, "code": 130429, "count": 5})
    assert client.json("DELETE", "/_emulator/faults", token=None)[0] == 200

    assert client.send(text())[0] == 200


def test_an_unknown_fault_code_is_refused(client: Client) -> None:
    status, body = client.json("POST", "/_emulator/faults", {"phone_number_id": NUMBER_ID, "code": 404})

    assert status == 400 and "unknown fault code" in body["error"]["message"]


def test_more_than_80_messages_in_a_second_hit_the_rate_limit(clock: FakeClock) -> None:
    # Given a number that sends from a frozen clock: every send falls in the same second
    with _emulator(clock, webhook_url=None) as emulator:
        client = Client(emulator.url)
        for _ in range(80):
            assert client.send(text())[0] == 200

        # When it sends an 81st
        status, body = client.send(text())

        # Then Meta's throughput error answers, until a second has passed
        assert status == 400
        assert body["error"]["code"] == 130429 and body["error"]["message"] == "(#130429) Rate limit hit"
        assert client.json("POST", f"/v21.0/{OTHER_NUMBER_ID}/messages", text(), token=OTHER_TOKEN)[0] == 200
        clock.advance(1.0)
        assert client.send(text())[0] == 200
        assert len(emulator.outbox(phone_number_id=NUMBER_ID)) == 81
        client.close()


def test_the_pair_rate_limit_is_off_unless_a_test_turns_it_on(client: Client, clock: FakeClock) -> None:
    # Given two messages to one user within the same second, both accepted while the limit is off
    assert client.send(text())[0] == 200
    assert client.send(text())[0] == 200

    # When a test turns it on, the next message to that user within 6 s is refused
    client.json("POST", "/_emulator/faults", {"phone_number_id": NUMBER_ID, "pair_rate_limit": True})
    status, body = client.send(text())
    assert status == 400 and body["error"]["code"] == 131056
    assert client.send(text(to="15557654321"))[0] == 200  # another user is another pair

    # Then 6 s later one more goes, and one right after it does not
    clock.advance(6.0)
    assert client.send(text())[0] == 200
    assert client.send(text())[1]["error"]["code"] == 131056

    client.json("DELETE", "/_emulator/faults", token=None)
    assert client.send(text())[0] == 200


# ---------------------------------------------------------------------------------------------------------
# Status webhooks
# ---------------------------------------------------------------------------------------------------------


def test_status_webhooks_arrive_signed_and_in_order_in_metas_shape(
    emulator: GraphEmulator, client: Client, receiver: WebhookReceiver
) -> None:
    message = {**text(), "biz_opaque_callback_data": "order-42"}
    message_id = client.send(message)[1]["messages"][0]["id"]

    deliveries = [receiver.next() for _ in range(3)]

    assert all(signed_by_app_secret(delivery) for delivery in deliveries)
    assert all(d.headers["content-type"] == "application/json" for d in deliveries)
    statuses = [d.json()["entry"][0]["changes"][0]["value"]["statuses"][0] for d in deliveries]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {s["id"] for s in statuses} == {message_id}
    assert {s["recipient_id"] for s in statuses} == {CUSTOMER}
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"order-42"}
    sent, delivered, read = (d.json() for d in deliveries)
    for posted, name in ((sent, "pywa__status_sent.json"), (delivered, "pywa__status_delivered.json")):
        expected = fixture(name)
        expected["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = "x"
        assert shape(posted) == shape(expected)
    assert set(statuses[2]) == {"id", "status", "timestamp", "recipient_id", "biz_opaque_callback_data"}
    value = sent["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": NUMBER_ID}
    assert sent["entry"][0]["id"] == "1234567890987654"
    assert emulator.outbox()[0]["status"] == "read"


def test_a_refused_status_webhook_is_retried_and_the_order_kept(
    client: Client, receiver: WebhookReceiver
) -> None:
    receiver.refuse_next = 2
    client.send(text())

    statuses = [receiver.next().json()["entry"][0]["changes"][0]["value"]["statuses"][0] for _ in range(3)]

    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]


def test_an_error_found_after_accepting_arrives_as_a_failed_status(
    client: Client, receiver: WebhookReceiver
) -> None:
    fault = {"phone_number_id": NUMBER_ID, "code": 131047, "count": 1, "via": "webhook"}
    client.json("POST", "/_emulator/faults", fault)

    status, body = client.send(text())

    assert status == 200
    delivery = receiver.next()
    assert signed_by_app_secret(delivery)
    assert shape(delivery.json()) == shape(fixture("pywa__status_failed.json"))
    [failed] = delivery.json()["entry"][0]["changes"][0]["value"]["statuses"]
    assert (failed["id"], failed["status"]) == (body["messages"][0]["id"], "failed")
    assert failed["errors"][0]["code"] == 131047
    with pytest.raises(queue.Empty):
        receiver.deliveries.get(timeout=0.3)  # nothing follows a failure


# ---------------------------------------------------------------------------------------------------------
# Customer messages
# ---------------------------------------------------------------------------------------------------------


def test_a_customer_text_message_is_posted_signed_in_the_shape_of_metas(
    emulator: GraphEmulator, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    returned = emulator.send_customer_message(NUMBER_ID, CUSTOMER, "Dana", text_message("Hi, do you ship?"))

    delivery = receiver.next()
    assert signed_by_app_secret(delivery)
    assert delivery.json() == returned
    assert shape(returned) == shape(fixture("pywa__text.json"))
    value = returned["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["profile"] == {"name": "Dana"} and value["contacts"][0]["wa_id"] == CUSTOMER
    [message] = value["messages"]
    assert message["from"] == CUSTOMER and message["id"].startswith("wamid.")
    assert message["timestamp"] == str(int(clock.now)) and message["text"] == {"body": "Hi, do you ship?"}


def test_a_customer_photo_carries_its_media_description(
    emulator: GraphEmulator, client: Client, receiver: WebhookReceiver
) -> None:
    status, stored = client.json(
        "POST",
        "/_emulator/media",
        b"\xff\xd8\xff\xe0 fake jpeg",
        token=None,
        headers={"Content-Type": "image/jpeg", "X-Phone-Number-Id": NUMBER_ID},
    )
    assert status == 200

    returned = emulator.send_customer_message(NUMBER_ID, CUSTOMER, "Dana", image_message(stored["id"]))

    assert receiver.next().json() == returned
    assert shape(returned) == shape(fixture("pywa__image.json"))
    image = returned["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    assert image["id"] == stored["id"] and image["mime_type"] == "image/jpeg"


def test_customer_replies_and_orders_match_metas_shapes(
    emulator: GraphEmulator, client: Client, receiver: WebhookReceiver
) -> None:
    business_message_id = client.send(buttons("Yes", "No"))[1]["messages"][0]["id"]
    items = [{"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"}]

    reply = emulator.send_customer_message(
        NUMBER_ID, CUSTOMER, "Dana", button_reply("b0", "Yes", business_message_id)
    )
    order = emulator.send_customer_message(
        NUMBER_ID, CUSTOMER, "Dana", order_message("354160437058781", items)
    )

    assert shape(reply) == shape(fixture("pywa__interactive_button_reply.json"))
    context = reply["entry"][0]["changes"][0]["value"]["messages"][0]["context"]
    assert context == {"from": DISPLAY_NUMBER, "id": business_message_id}
    assert shape(order) == shape(fixture("pywa__order.json"))


def test_the_inbound_route_posts_a_customer_message(client: Client, receiver: WebhookReceiver) -> None:
    spec = {
        "phone_number_id": NUMBER_ID,
        "from": CUSTOMER,
        "profile_name": "Dana",
        "message": text_message("hi"),
    }

    status, body = client.json("POST", "/_emulator/inbound", spec, token=None)

    assert status == 200
    assert receiver.next().json() == body


# ---------------------------------------------------------------------------------------------------------
# Media
# ---------------------------------------------------------------------------------------------------------


def test_media_is_described_then_downloadable_with_the_token_for_five_minutes(
    client: Client, clock: FakeClock
) -> None:
    data = b"\x89PNG\r\n\x1a\n a customer's photo"
    headers = {"Content-Type": "image/png", "X-Phone-Number-Id": NUMBER_ID}
    media_id = client.json("POST", "/_emulator/media", data, token=None, headers=headers)[1]["id"]

    status, described = client.json("GET", f"/v21.0/{media_id}")

    assert status == 200
    assert described == {
        "messaging_product": "whatsapp",
        "url": described["url"],
        "mime_type": "image/png",
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "id": media_id,
    }
    path = described["url"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    status, headers, downloaded = client.call("GET", f"/{path}")
    assert (status, headers["content-type"], downloaded) == (200, "image/png", data)
    assert client.call("GET", f"/{path}", token=None)[0] == 401
    assert client.call("GET", f"/{path}", token=OTHER_TOKEN)[0] == 401
    assert client.call("GET", f"/v21.0/{media_id}", token=None)[0] == 401
    assert client.json("GET", f"/v21.0/{media_id}", token=OTHER_TOKEN)[1]["error"]["error_subcode"] == 33

    clock.advance(300)
    assert client.call("GET", f"/{path}")[0] == 404
    assert (
        client.call("GET", "/" + client.json("GET", f"/v21.0/{media_id}")[1]["url"].split("/", 3)[3])[0]
        == 200
    )


def test_media_uploaded_as_meta_takes_it_can_be_described_and_deleted(client: Client) -> None:
    boundary = "chatshopboundary"
    data = b"%PDF-1.4 \r\n\x00 an invoice"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\nwhatsapp\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="invoice.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    status, uploaded = client.json("POST", f"/v21.0/{NUMBER_ID}/media", body, headers=headers)

    assert status == 200
    described = client.json("GET", f"/v21.0/{uploaded['id']}")[1]
    assert (described["mime_type"], described["file_size"]) == ("application/pdf", len(data))
    assert client.json("DELETE", f"/v21.0/{uploaded['id']}") == (200, {"success": True})
    assert client.json("GET", f"/v21.0/{uploaded['id']}")[0] == 400


# ---------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------


def test_health_unknown_routes_and_oversized_bodies(client: Client) -> None:
    assert client.json("GET", "/_emulator/health", token=None) == (200, {"status": "ok", "version": "v21.0"})

    status, body = client.json("GET", "/v21.0/1/nowhere")
    assert status == 404 and body["error"]["code"] == 2500 and body["error"]["fbtrace_id"]
    assert client.json("GET", "/_emulator/nowhere", token=None)[0] == 404

    status, _headers, raw = client.call("POST", f"/v21.0/{NUMBER_ID}/messages", b"x" * (3 * 1024 * 1024 + 1))
    assert status == 413 and "error" in json.loads(raw)


def test_stop_frees_the_port(clock: FakeClock) -> None:
    port = free_port()
    first = _emulator(clock, webhook_url=None, port=port)
    first.start()
    first.stop()

    second = _emulator(clock, webhook_url=None, port=port)
    second.start()
    try:
        client = Client(second.url)
        assert client.json("GET", "/_emulator/health", token=None)[0] == 200
        client.close()
    finally:
        second.stop()


def test_it_refuses_to_listen_or_post_beyond_loopback(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="loopback"):
        GraphEmulator("0.0.0.0", free_port(), None, APP_SECRET, clock=clock)
    with pytest.raises(ValueError, match="loopback"):
        GraphEmulator("127.0.0.1", free_port(), "https://example.com/hook", APP_SECRET, clock=clock)
