"""`chatshop chat` as a person uses it: chat with the demo shop as a WhatsApp customer via `chatshop dev`."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from chatshop.assistant import phrases
from chatshop_local.devserver import DevServer

pytestmark = pytest.mark.e2e

LISTING_INTRO = phrases.PHOTO_LISTING_INTRO  # the demo shop speaks English: the message id is its text

# The indexer indexes the demo's pictures and the photo search loads its models on the first photo.
PHOTO_TIMEOUT_S = 120
CUSTOMER_NUMBER = "+1 555 0123 456"
REPLY_TIMEOUT_S = 15


def chat_command(
    state_dir: Path, shop_id: str, number: str = CUSTOMER_NUMBER, name: str = "Ana"
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "chatshop_local.cli",
        "chat",
        "--shop",
        shop_id,
        "--as",
        number,
        "--name",
        name,
        "--state-dir",
        str(state_dir),
    ]


def wait_for_pictures_indexed(api_url: str, demo: dict, timeout: float = PHOTO_TIMEOUT_S) -> None:
    """Until the search indexer has indexed every picture of the demo shop (it loads its models on
    the first one)."""
    request = urllib.request.Request(
        f"{api_url}/shops/{demo['shop_id']}/products?limit=100",
        headers={"Authorization": f"Bearer {demo['api_key']}"},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=10) as response:
            products = json.loads(response.read())["items"]
        statuses = [image.get("index_status") for product in products for image in product["images"]]
        if statuses and all(status == "indexed" for status in statuses):
            return
        time.sleep(0.5)
    raise AssertionError(f"the demo's pictures were not indexed within {timeout}s: {statuses}")


class ChatProcess:
    """`chatshop chat` with a pipe for stdin, and its output read as it comes."""

    def __init__(self, cwd: Path, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = REPLY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.output):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {what} within {timeout}s; chat printed:\n{self.output}")

    def finish(self, timeout: float = 15) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self._lines.append(line)


def shop_says(output: str, shop_number: str) -> list[str]:
    """The shop's messages in the chat's output, each with its following indented lines."""
    messages: list[str] = []
    for line in output.splitlines():
        if line.startswith(f"{shop_number}> "):
            messages.append(line)
        elif messages and line.startswith(" "):
            messages[-1] += "\n" + line
    return messages


def test_a_customer_chats_with_the_demo_shop_and_gets_answers(repo_root, tmp_path):
    # Given chatshop dev running with its demo shop, which has a WhatsApp number, and its catalog
    # indexed for search
    state_dir = tmp_path / "state"
    server = DevServer(repo_root, state_dir)
    chat: ChatProcess | None = None
    try:
        server.wait_ready()
        demo = json.loads((state_dir / "demo.json").read_text())
        number = demo["display_phone_number"]
        # the demo writes customers' photos of its products next to its state
        photo = state_dir / "demo-photos" / "TEE-BLK-M.jpg"
        wait_for_pictures_indexed(server.api_url, demo)
        connect_stripe(server.api_url, demo)

        # When a customer says hello in `chatshop chat`
        chat = ChatProcess(repo_root, chat_command(state_dir, demo["shop_id"]))
        chat.type("Hi!")
        # Then the assistant welcomes them by name with the menu's three buttons
        chat.wait_for(lambda out: "(menu:agent)" in out, "the welcome menu")
        assert "Hi Ana, welcome to Demo Outfitters!" in chat.output

        # When they tap "Browse catalog": the categories, each with what is in stock
        chat.type("/tap menu:browse")
        chat.wait_for(lambda out: "Jackets (cat:" in out, "the categories")

        # When they ask for a warm jacket under 100 dollars: the jackets that fit, with prices
        chat.type("do you have a warm jacket under 100 dollars?")
        chat.wait_for(lambda out: "Here is what I found" in out, "the advice", timeout=PHOTO_TIMEOUT_S)
        advice = next(m for m in shop_says(chat.output, number) if "Here is what I found" in m)
        assert "Insulated puffer jacket, black, M: $89.00" in advice, advice
        assert "$119.00" not in advice  # the rain jacket is over the budget

        # When they ask a question the shop's FAQ answers: the merchant's own answer
        chat.type("Do you ship to Canada?")
        chat.wait_for(lambda out: "5 to 8 to Canada" in out, "the FAQ answer", timeout=PHOTO_TIMEOUT_S)

        # When the customer sends a photo of a demo product, the shop's photo search answers it
        # with the closest products, that one among them
        chat.type(f"/photo {photo}")
        chat.wait_for(lambda out: LISTING_INTRO in out, "the photo search's answer", timeout=PHOTO_TIMEOUT_S)
        chat.type("/quit")
        code = chat.finish()
        output = chat.output

        assert code == 0, output
        assert "you> Hi!" in output
        assert f"sent photo {photo.name} (image/jpeg" in output
        assert "Organic cotton tee, black, M - $25.00" in output
        # Every reply came once, from the shop's number
        assert len(shop_says(output, number)) == 5, output
        # And the customer's number shows only in the header, as typed
        assert output.count(CUSTOMER_NUMBER) == 1, output
        assert "15550123456" not in output
        assert "Traceback" not in output

        # When someone chats with a shop that does not exist, it stops at once and says why
        missing = subprocess.run(
            chat_command(state_dir, "no-such-shop"),
            cwd=repo_root,
            input="hello\n",
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert missing.returncode == 2, missing.stdout + missing.stderr
        assert "shop no-such-shop has no WhatsApp channel" in missing.stderr
        assert "Traceback" not in missing.stderr

        buys_in_the_chat(repo_root, server.api_url, state_dir, demo)
    finally:
        if chat is not None:
            chat.kill()
        output = server.interrupt()
    assert server.process.returncode == 0, output


def test_chat_without_a_running_dev_says_so(repo_root, tmp_path):
    # Given a state dir that no chatshop dev runs with, when a customer starts a chat
    result = subprocess.run(
        chat_command(tmp_path / "state", "any-shop"),
        cwd=repo_root,
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )
    # Then it exits 2 and tells how to start one
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no chatshop dev is running" in result.stderr
    assert "chatshop dev --state-dir" in result.stderr


STRIPE_SECRET = "whsec_localdemo0123456789"
BUYER_NUMBER = "+1 555 0199 777"


def _api(api_url: str, demo: dict, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{api_url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {demo['api_key']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def _stripe_paid(api_url: str, shop_id: str, order_id: str, amount: int) -> int:
    """Stripe's checkout.session.completed for the order, signed as Stripe signs it."""
    event = {
        "id": f"evt_demo_{order_id[:12]}",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_demo",
                "object": "checkout.session",
                "client_reference_id": order_id,
                "payment_status": "paid",
                "amount_total": amount,
                "currency": "usd",
            }
        },
    }
    payload = json.dumps(event).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{api_url}/webhooks/stripe/{shop_id}",
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={signature}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def connect_stripe(api_url: str, demo: dict) -> None:
    """The demo shop takes payment through a Stripe Payment Link (before anyone chats: the assistant
    reads a shop's settings through a cache of a minute)."""
    _api(
        api_url,
        demo,
        "PUT",
        f"/shops/{demo['shop_id']}/payments/stripe",
        {"signing_secret": STRIPE_SECRET, "payment_link": "https://buy.stripe.com/test_demo"},
    )


def buys_in_the_chat(repo_root: Path, api_url: str, state_dir: Path, demo: dict) -> None:
    """Another customer browses, fills a cart in words, orders, pays through the shop's Stripe
    Payment Link, and follows the order."""
    number = demo["display_phone_number"]
    chat = ChatProcess(repo_root, chat_command(state_dir, demo["shop_id"], BUYER_NUMBER, "Bea"))
    try:
        # When Bea browses, and puts two pairs of the blue socks in her cart
        chat.type("/tap menu:browse")
        chat.wait_for(lambda out: "(cat:" in out, "the categories")
        chat.type("2 of the blue merino socks")
        chat.wait_for(lambda out: "Added 2 \u00d7 Merino socks, blue, M" in out, "the cart")
        assert "Total: $32.00" in chat.output
        # And checks out
        chat.type("/tap cart:checkout")
        chat.wait_for(lambda out: "client_reference_id=" in out, "the order's pay button")
        summary = next(m for m in shop_says(chat.output, number) if "client_reference_id=" in m)
        assert "2 \u00d7 Merino socks, blue, M: $32.00" in summary and "[Pay now]" in summary
        order_id = re.search(r"client_reference_id=(o[0-9a-f]+)", summary).group(1)
        order_number = re.search(r"Your order (\S+) is placed", summary).group(1)

        # When Stripe says she paid
        assert _stripe_paid(api_url, demo["shop_id"], order_id, 3200) == 200

        # Then the order is paid, and her order's status says so in the chat
        order = _api(api_url, demo, "GET", f"/shops/{demo['shop_id']}/orders/{order_id}")
        assert order["status"] == "paid" and order["total"]["amount"] == 3200
        chat.type("where is my order?")
        chat.wait_for(lambda out: "paid, being prepared" in out, "the order's status")
        assert order_number in chat.output
        chat.type("/quit")
        assert chat.finish() == 0
        assert "Traceback" not in chat.output
    finally:
        chat.kill()
