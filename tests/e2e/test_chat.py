"""`chatshop chat` as a person uses it: chat with the demo shop as a WhatsApp customer via `chatshop dev`."""

from __future__ import annotations

import json
import os
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


def chat_command(state_dir: Path, shop_id: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "chatshop_local.cli",
        "chat",
        "--shop",
        shop_id,
        "--as",
        CUSTOMER_NUMBER,
        "--name",
        "Ana",
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
