"""Privacy requests at size: the time to export and to erase one customer with 1,000 messages.

Runs the project's whole stack (``template.yaml``) on the embedded AWS with the Graph API emulator,
opens a shop with a connected WhatsApp number, then gives one customer what production would hold
about them, written by the real write paths in this process with the inbound worker's environment:

- ``--messages`` messages, half from the customer, half the replies: each inbound one is a signed
  webhook body archived as the webhook function archives it, split into its unit and handled by
  ``chatshop.messaging.conversations.handle_unit`` (the message in the thread, its marker, the
  customer's profile, the reply stored and queued); ``--media`` of them are photos (JPEGs of
  100-300 KB) that the handling downloads from the emulator through the Graph client and keeps in
  the media bucket; each reply is settled as the sender settles it (Meta's id linked), then its
  three status webhooks (sent, delivered, read) are archived and handled (the archive index, the
  record's status). The sender function is left idle so nothing is sent twice;
- ``--orders`` orders placed through ``chatshop.orders.checkout``;
- a consent to personalised ads through the consent route, and ad clicks (the ad profile) through
  the ad events' recorder.

Then, through the real route and the privacy worker (POST the request, poll its GET until done):
the export ``--repeats`` times (wall time, the zip's size, the time to download it through its
link), then the erasure of that customer and of ``--erasures`` - 1 more customers seeded the same way.
Every AWS request the privacy function makes is counted (a hook on botocore's API call, attributed
to the function running it). Prints figures with the load average; exits non-zero when a request
fails or its counts do not match what was written.

    nice -n 10 .venv/bin/python bench/privacy_requests.py
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from _stack import BenchStack, running_stack  # noqa: E402
from _stats import percentile  # noqa: E402
from botocore.client import BaseClient  # noqa: E402

from chatshop_local import environ  # noqa: E402
from chatshop_local.ads_secrets import LOCAL_EVENT_KEYS, LOCAL_USER_KEY_SECRET  # noqa: E402
from chatshop_local.functions import running_function  # noqa: E402
from chatshop_local.whatsapp_secrets import LOCAL_APP_SECRET  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "whatsapp"
PRIVACY = "PrivacyFunction"
NUMBER = "3344556677101"
WABA = "102290129341101"
CONSENT_WORDING = (
    "Show me ads based on what I look at and click in the marketplace. You can stop this at any time."
)
TEXTS = (
    "Hi, do you still have the blue enamel mug?",
    "How long does shipping to Austin take?",
    "Can I pay on delivery?",
    "Thanks! I'll take two.",
    "Is the large size back in stock?",
)


def fail(message: str) -> None:
    raise SystemExit(f"FAILED: {message}")


# --- counting -----------------------------------------------------------------------------------


class Counted:
    """AWS requests made by one function's code (the local runtime runs it in this process)."""

    def __init__(self, function: str) -> None:
        self.function = function
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self) -> None:
        original = BaseClient._make_api_call

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if running_function() == self.function:
                with self._lock:
                    self.calls[f"{client.meta.service_model.service_name}.{operation}"] += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def take(self) -> Counter[str]:
        with self._lock:
            taken, self.calls = self.calls, Counter()
        return taken


# --- HTTP ---------------------------------------------------------------------------------------


def call(base: str, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# --- what the customer is made of ----------------------------------------------------------------


def wamid(wa_id: str) -> str:
    """An id laid out as Meta's are (base64 of a small protobuf with the number in it), so the
    erasure's work with them is what it is in production."""
    raw = bytes([0x1C, 0x18, len(wa_id)]) + wa_id.encode() + b"\x15\x02\x00\x11\x18\x12"
    return "wamid." + base64.b64encode(raw + secrets.token_hex(9).upper().encode() + b"\x00").decode()


def photo(rng: np.random.Generator) -> bytes:
    """A JPEG of 100-300 KB: a photo's worth of detail (smooth shapes under sensor-like noise)."""
    height, width = 900, 1200
    base = cv2.resize(rng.integers(0, 255, (9, 12, 3), dtype=np.uint8), (width, height))
    noise = rng.normal(0, rng.uniform(6, 14), (height, width, 3))
    image = np.clip(base.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return encoded.tobytes()


class Webhooks:
    """Signed bodies as Meta posts them, from the project's fixtures."""

    def __init__(self) -> None:
        self.text_body = json.loads((FIXTURES / "pywa__text.json").read_bytes())
        self.status_body = json.loads((FIXTURES / "pywa__status_read.json").read_bytes())

    def _envelope(self, template: dict[str, Any], wa_id: str, name: str) -> dict[str, Any]:
        document = copy.deepcopy(template)
        document["entry"][0]["id"] = WABA
        value = document["entry"][0]["changes"][0]["value"]
        value["metadata"] = {"display_phone_number": "15551237777", "phone_number_id": NUMBER}
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        return document

    def message(self, wa_id: str, name: str, content: dict[str, Any]) -> bytes:
        document = self._envelope(self.text_body, wa_id, name)
        message = {"from": wa_id, "id": wamid(wa_id), "timestamp": str(int(time.time())), **content}
        document["entry"][0]["changes"][0]["value"]["messages"] = [message]
        return json.dumps(document, ensure_ascii=False).encode()

    def status(self, wa_id: str, name: str, message_id: str, status: str) -> bytes:
        document = self._envelope(self.status_body, wa_id, name)
        item = document["entry"][0]["changes"][0]["value"]["statuses"][0]
        item.update(id=message_id, status=status, recipient_id=wa_id, timestamp=str(int(time.time())))
        return json.dumps(document, ensure_ascii=False).encode()


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(LOCAL_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


class Seeder:
    """Writes a customer through the inbound worker's, checkout's and ads' own code."""

    def __init__(self, bench: BenchStack, base: str, api_key: str, shop_id: str, threads: int) -> None:
        from chatshop.messaging.conversation_store import ConversationStore
        from chatshop.messaging.graph_client import GraphClient
        from chatshop.messaging.media_fetch import MediaBucketWriter, MediaFetcher
        from chatshop.messaging.outbound_queue import OutboundQueue
        from chatshop.messaging.token_vault import TokenVault
        from chatshop.messaging.webhook_archive import WebhookArchive
        from chatshop.orders.checkout import Checkout
        from chatshop.platform.config import load_settings
        from chatshop.shops.shop_store import ShopStore

        self.bench, self.base, self.api_key, self.shop_id = bench, base, api_key, shop_id
        self.threads = threads
        self.env = dict(bench.stack.functions["InboundFunction"].environment)
        self.ads_env = dict(bench.stack.functions["AdEventsFunction"].environment)
        with environ.function_environ(self.env):
            settings = load_settings()
            self.store = ConversationStore(settings)
            self.outbox = OutboundQueue(settings)
            self.media = MediaFetcher(
                GraphClient(settings), TokenVault(settings), MediaBucketWriter(settings)
            )
            self.archive = WebhookArchive(settings)
            self.checkout = Checkout.from_settings(settings)
            self.shop = ShopStore(settings).get(shop_id)
        self.webhooks = Webhooks()
        self.rng = np.random.default_rng(7)

    def customer(self, n: int, messages: int, media: int, orders: int) -> dict[str, Any]:
        from chatshop.ads.users import chat_user_key

        wa_id = f"1555{n:03d}{secrets.randbelow(10**4):04d}"
        name = f"Odile Bench{n}"
        inbound = messages // 2
        photos_at = set(np.linspace(0, inbound - 1, media, dtype=int).tolist()) if media else set()
        pictures = {i: photo(self.rng) for i in photos_at}
        media_bytes = sum(len(data) for data in pictures.values())

        def exchange(i: int) -> None:
            """One message of the customer's and the shop's reply, as a worker of the stack would."""
            with environ.function_environ(self.env):
                if i in pictures:
                    media_id = self.bench.stack.graph.store_media(NUMBER, pictures[i], "image/jpeg")
                    content = {"type": "image", "image": {"id": media_id, "mime_type": "image/jpeg"}}
                else:
                    content = {"type": "text", "text": {"body": TEXTS[i % len(TEXTS)]}}
                reply_id = self._handle(self.webhooks.message(wa_id, name, content))
                if reply_id:
                    self._settle_reply(wa_id, name, reply_id)

        # Many conversations' workers at once in production; here, one customer's exchanges at once.
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            list(pool.map(exchange, range(inbound)))
        with environ.function_environ(self.env):
            for i in range(orders):
                self._order(wa_id, i)
        user_key = chat_user_key(wa_id, LOCAL_USER_KEY_SECRET.encode())
        consent = {
            "purpose": "personalised_ads",
            "state": "given",
            "wording": CONSENT_WORDING,
            "source": "whatsapp",
            "country": "US",
        }
        call(self.base, "PUT", f"/privacy/consents/{user_key}", consent)
        with environ.function_environ(self.ads_env):
            for category in ("Kitchen", "Kitchen", "Garden"):
                self._click(user_key, category)
        return {"wa_id": wa_id, "phone": f"+1 555 {wa_id[4:7]} {wa_id[7:]}", "media_bytes": media_bytes}

    def _handle(self, raw: bytes) -> str | None:
        """What the webhook function and then the inbound worker do with one body."""
        from chatshop.messaging.conversations import handle_unit
        from chatshop.messaging.webhook import split_webhook, verify_signature

        assert verify_signature(raw, signature(raw), LOCAL_APP_SECRET)
        archived_key = self.archive.keep(raw)
        reply = None
        for unit in split_webhook(raw):
            body = {**unit.body, "shop_id": self.shop_id, "archived_key": archived_key}
            result = handle_unit(self.store, self.outbox, self.media, json.loads(json.dumps(body)))
            reply = reply or result.reply_id
        return reply

    def _settle_reply(self, wa_id: str, name: str, reply_id: str) -> None:
        """As the sender settles an accepted send, then Meta's three statuses of it."""
        record = self.store.outbound(reply_id)
        assert record is not None
        claimed = self.store.transition(record, ("queued",), status="sending", attempts=1)
        assert claimed is not None
        meta_id = wamid(wa_id)
        self.store.link_wamid(meta_id, reply_id)
        self.store.transition(claimed, ("sending",), status="accepted", wamid=meta_id)
        for status in ("sent", "delivered", "read"):
            self._handle(self.webhooks.status(wa_id, name, meta_id, status))

    def _order(self, wa_id: str, n: int) -> None:
        from chatshop.orders.checkout import Buyer, CartLine

        buyer = Buyer(wa_id=wa_id, phone_number_id=NUMBER)
        placed = self.checkout.place_order(
            self.shop,
            [CartLine("MUG-1", 1 + n % 3)],
            key=f"bench-{wa_id}-{n}",
            buyer=buyer,
            now=datetime.now(UTC),
        )
        if placed.order is None:
            fail(f"order {n} was not placed: {placed.problems}")

    def _click(self, user_key: str, category: str) -> None:
        from chatshop.ads.events import AdEvent, EventRecorder
        from chatshop.ads.tokens import CLICK, EventKeys, sign_event, verify
        from chatshop.platform.config import load_settings

        keys = EventKeys.parse(LOCAL_EVENT_KEYS)
        now = datetime.now(UTC)
        token = sign_event(
            keys,
            kind=CLICK,
            decision_id=uuid.uuid4().hex,
            campaign_id=uuid.uuid4().hex,
            ad_id="ad-1",
            user_key=user_key,
            price_milli=0,
            now=now,
            region=load_settings().region,
            category=category,
        )
        claim = verify(keys, token, now)
        assert claim is not None
        EventRecorder(load_settings()).record(AdEvent.of(claim, now))


# --- the requests -------------------------------------------------------------------------------


def run_request(base: str, key: str, shop_id: str, kind: str, phone: str) -> tuple[float, dict[str, Any]]:
    """POST the request, poll its GET until done: wall seconds, and the request as last shown."""
    path = f"/shops/{shop_id}/privacy/requests"
    started = time.perf_counter()
    filed = call(base, "POST", path, {"type": kind, "customer": phone}, key)
    while True:
        shown = call(base, "GET", f"{path}/{filed['id']}", key=key)
        if shown["status"] in ("done", "failed"):
            break
        if time.perf_counter() - started > 600:
            fail(f"the {kind} was not done within 600 s: {shown}")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if shown["status"] != "done":
        fail(f"the {kind} failed: {shown}")
    return elapsed, shown


def requests_line(calls: Counter[str], runs: int) -> str:
    total = sum(calls.values()) / runs
    parts = ", ".join(f"{name} {count / runs:.1f}" for name, count in calls.most_common())
    return f"{total:.1f} AWS requests a run ({parts})"


def seconds_line(samples: list[float]) -> str:
    return f"p50 {percentile(samples, 0.5):.2f} s (all: {', '.join(f'{s:.2f}' for s in samples)})"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}), {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages both ways, per customer")
    parser.add_argument("--media", type=int, default=50, help="photos among the customer's messages")
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="exports of the customer")
    parser.add_argument("--threads", type=int, default=8, help="exchanges written at once while seeding")
    parser.add_argument("--erasures", type=int, default=2, help="customers seeded and erased")
    args = parser.parse_args()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    counted = Counted(PRIVACY)
    counted.install()
    # The replies are settled here, as the sender would: the sender function stays idle.
    with running_stack(TEMPLATE, idle=frozenset({"SenderFunction"})) as bench:
        for function in bench.stack.functions.values():
            function.environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        base = bench.url
        key = call(base, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})["api_key"]
        shop_id = call(base, "POST", "/shops", {"name": "Keeper", "country": "US", "currency": "USD"}, key)[
            "id"
        ]
        product = {
            "retailer_id": "MUG-1",
            "title": "Enamel mug",
            "price": {"amount": 1500, "currency": "USD"},
            "inventory": 100_000,
        }
        call(base, "POST", f"/shops/{shop_id}/products", product, key)
        channel = {
            "phone_number_id": NUMBER,
            "waba_id": WABA,
            "display_phone_number": "+1 555 123 7777",
            "access_token": "EAAG-bench-privacy-token-0123456789",
        }
        # On Meta the number exists with its token before the shop connects it.
        bench.stack.graph.register_number(
            NUMBER, channel["display_phone_number"], channel["access_token"], WABA
        )
        call(base, "PUT", f"/shops/{shop_id}/channels/whatsapp", channel, key)
        seeder = Seeder(bench, base, key, shop_id, args.threads)

        customers = []
        for n in range(max(1, args.erasures)):
            started = time.perf_counter()
            customers.append(seeder.customer(n, args.messages, args.media, args.orders))
            print(
                f"Seeded customer {n + 1}: {args.messages} messages ({args.media} photos, "
                f"{customers[-1]['media_bytes'] / 1e6:.1f} MB), {args.orders} orders, a consent and "
                f"ad clicks in {time.perf_counter() - started:.1f} s ({load()})"
            )
        first = customers[0]
        bench.settle()
        counted.take()

        exports, downloads, sizes = [], [], []
        for _ in range(args.repeats):
            seconds, shown = run_request(base, key, shop_id, "export", first["phone"])
            exports.append(seconds)
            started = time.perf_counter()
            with urllib.request.urlopen(shown["export"]["url"], timeout=60) as response:
                sizes.append(len(response.read()))
            downloads.append(time.perf_counter() - started)
            counts = shown["counts"]
            if counts.get("messages") != args.messages or counts.get("media") != args.media:
                fail(f"the export found {counts}, not the {args.messages} messages and {args.media} photos")
            if counts.get("orders") != args.orders:
                fail(f"the export found {counts.get('orders')} orders, not {args.orders}")
        export_calls = counted.take()
        print(f"Export ({args.repeats} runs, {load()}):")
        print(f"  POST to done: {seconds_line(exports)}")
        print(f"  found {counts}")
        download_ms = percentile(downloads, 0.5) * 1000
        print(
            f"  zip {percentile(sizes, 0.5) / 1e6:.2f} MB; download through its link p50 {download_ms:.0f} ms"
        )
        print(f"  {requests_line(export_calls, args.repeats)}")

        erasures, handled = [], []
        for customer in customers:
            seconds, shown = run_request(base, key, shop_id, "erasure", customer["phone"])
            erasures.append(seconds)
            counts = shown["counts"]
            handled.append(counts)
            if counts.get("media") != args.media or counts.get("orders") != args.orders:
                fail(f"the erasure found {counts}")
        erase_calls = counted.take()
        print(f"Erasure ({len(customers)} customers, {load()}):")
        print(f"  POST to done: {seconds_line(erasures)}")
        for n, counts in enumerate(handled, 1):
            print(f"  customer {n} (exported {args.repeats if n == 1 else 0} times): handled {counts}")
        print(f"  {requests_line(erase_calls, len(customers))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
