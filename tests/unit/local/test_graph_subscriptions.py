"""A business account's webhook override in the Graph API emulator, as Meta applies it: verified with
the GET handshake first, then the account's ``messages`` webhooks go there and other fields do not.

Real servers on loopback: the emulator, and two small receivers standing in for two regions' webhooks
(each answers Meta's handshake for its verify token and records what is posted to it).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chatshop_local.emulator import free_port
from chatshop_local.graph_emulator import GraphEmulator, text_message

from .test_graph_emulator import APP_SECRET, Client

WABA = "102290129340398"
NUMBER = "1122334455667"
TOKEN = "EAAG-waba-token"
CUSTOMER = "5511987654321"
VERIFY_TOKEN = "region-verify-token"
WAIT_S = 5.0


class RegionWebhook:
    """A region's webhook: Meta's handshake for ``verify_token`` (or a wrong answer), POSTs recorded."""

    def __init__(self, verify_token: str = VERIFY_TOKEN, answers_challenge: bool = True) -> None:
        self.posted: queue.Queue[dict[str, Any]] = queue.Queue()
        self.handshakes: list[dict[str, list[str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib's name
                query = parse_qs(urlsplit(self.path).query)
                receiver.handshakes.append(query)
                good = query.get("hub.verify_token") == [verify_token] and query.get("hub.mode") == [
                    "subscribe"
                ]
                body = (query["hub.challenge"][0] if answers_challenge else "nope").encode()
                self.send_response(200 if good else 403)
                self.send_header("Content-Length", str(len(body) if good else 0))
                self.end_headers()
                if good:
                    self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posted.put(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/whatsapp"

    def next(self) -> dict[str, Any]:
        return self.posted.get(timeout=WAIT_S)

    def nothing_more(self) -> bool:
        try:
            self.posted.get(timeout=0.3)
        except queue.Empty:
            return True
        return False

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def app_webhook() -> Iterator[RegionWebhook]:
    webhook = RegionWebhook()
    yield webhook
    webhook.stop()


@pytest.fixture
def home_webhook() -> Iterator[RegionWebhook]:
    webhook = RegionWebhook()
    yield webhook
    webhook.stop()


@pytest.fixture
def meta(app_webhook: RegionWebhook) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(
        "127.0.0.1", free_port(), app_webhook.url, APP_SECRET, status_delay_s=0.01, webhook_retry_delays_s=()
    )
    emulator.register_number(NUMBER, "15550001111", TOKEN, waba_id=WABA)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(meta: GraphEmulator) -> Iterator[Client]:
    client = Client(meta.url)
    yield client
    client.close()


def subscribe(
    client: Client, url: str, token: str = TOKEN, verify_token: str = VERIFY_TOKEN, waba: str = WABA
) -> tuple[int, dict[str, Any]]:
    body = {"override_callback_uri": url, "verify_token": verify_token}
    return client.json("POST", f"/v21.0/{waba}/subscribed_apps", body, token=token)


def test_an_override_is_verified_by_the_handshake_then_the_accounts_messages_go_there(
    meta, client, app_webhook, home_webhook
):
    # When the app points the account at the home region's webhook
    status, body = subscribe(client, home_webhook.url)

    # Then Meta verified that URL with its handshake and keeps it for the account
    assert (status, body) == (200, {"success": True})
    assert home_webhook.handshakes and home_webhook.handshakes[0]["hub.mode"] == ["subscribe"]
    status, listed = client.json("GET", f"/v21.0/{WABA}/subscribed_apps", token=TOKEN)
    assert status == 200 and listed["data"][0]["override_callback_uri"] == home_webhook.url

    # and a customer's message, and the statuses of a reply, reach the home region, not the app's URL
    meta.send_customer_message(NUMBER, CUSTOMER, "Ana", text_message("Oi"))
    assert home_webhook.next()["entry"][0]["changes"][0]["value"]["messages"][0]["from"] == CUSTOMER
    reply = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "Olá"}}
    status, _ = client.json("POST", f"/v21.0/{NUMBER}/messages", reply, token=TOKEN)
    assert status == 200
    assert home_webhook.next()["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "sent"
    assert app_webhook.nothing_more()


def test_fields_meta_never_overrides_still_go_to_the_apps_url(meta, client, app_webhook, home_webhook):
    subscribe(client, home_webhook.url)

    meta.send_user_preference(NUMBER, CUSTOMER, "stop")

    assert app_webhook.next()["entry"][0]["changes"][0]["field"] == "user_preferences"
    assert home_webhook.nothing_more()


def test_without_an_override_the_app_s_url_gets_the_account_s_webhooks(meta, app_webhook, home_webhook):
    meta.send_customer_message(NUMBER, CUSTOMER, "Ana", text_message("Oi"))

    assert app_webhook.next()["entry"][0]["id"] == WABA
    assert home_webhook.nothing_more()


@pytest.mark.parametrize("answers_challenge", [True, False])
def test_a_url_that_fails_the_handshake_is_refused_with_2200_and_nothing_changes(
    meta, client, app_webhook, answers_challenge
):
    wrong = RegionWebhook(verify_token="another-token", answers_challenge=answers_challenge)
    liar = RegionWebhook(answers_challenge=False)
    try:
        for target in (wrong, liar):
            status, body = subscribe(client, target.url)
            assert status == 400 and body["error"]["code"] == 2200, body
        meta.send_customer_message(NUMBER, CUSTOMER, "Ana", text_message("Oi"))
        assert app_webhook.next()["entry"][0]["id"] == WABA
    finally:
        wrong.stop()
        liar.stop()


def test_an_unreachable_or_foreign_url_fails_verification(client):
    for url in (f"http://127.0.0.1:{free_port()}/webhooks/whatsapp", "https://example.com/webhooks/whatsapp"):
        status, body = subscribe(client, url)
        assert status == 400 and body["error"]["code"] == 2200, (url, body)


def test_the_token_must_manage_the_account(client, home_webhook):
    status, body = subscribe(client, home_webhook.url, token=None)  # type: ignore[arg-type]
    assert status == 401 and body["error"]["code"] == 190
    status, body = subscribe(client, home_webhook.url, token="EAAG-someone-elses-token")
    assert status == 400 and (body["error"]["code"], body["error"]["error_subcode"]) == (100, 33)
    assert home_webhook.handshakes == []


def test_an_account_the_emulator_knows_nothing_of_takes_the_token_it_is_first_given(client, home_webhook):
    # Locally, what a shop connects is what exists (numbers are learned from the shops' channels too)
    status, _ = subscribe(client, home_webhook.url, token="EAAG-new-shop-token", waba="900000000000009")
    assert status == 200


def test_a_verify_token_is_required_with_an_override(client, home_webhook):
    status, body = client.json(
        "POST", f"/v21.0/{WABA}/subscribed_apps", {"override_callback_uri": home_webhook.url}, token=TOKEN
    )
    assert status == 400 and body["error"]["code"] == 100 and "verify_token" in body["error"]["message"]
