"""What `chatshop dev` tells a person: where everything is, what to try, and the demo's indexing."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .demo_pictures import PICTURES
from .whatsapp_secrets import APP_SECRET_VARIABLE, VERIFY_TOKEN_VARIABLE

READY_LINE = "Press Ctrl-C to stop."  # devserver, the tests and the benchmarks wait for it
DEFAULT_STATE_DIR = Path(".chatshop")
# A customer's number for the chat; the 555 range reaches nobody.
DEMO_CUSTOMER = "+1 555 0100 200"


def ready_banner(stack: Any, report: Any, state_dir: Path, region: str, logs_dir: Path) -> list[str]:
    described = stack.describe()
    lines = [
        f"chatshop dev is ready in {report.seconds:.1f}s (region {region})",
        *_endpoints(stack, report, state_dir, logs_dir),
        *_secrets(stack),
        *_demo(report.demo),
    ]
    for title in ("functions", "queues", "streams", "schedules"):
        lines.append(f"  {title.capitalize()}:")
        lines += [f"    {entry}" for entry in described[title]] or ["    (none)"]
    return lines


def short_banner(stack: Any, report: Any, state_dir: Path, logs_dir: Path) -> list[str]:
    """The banner again once the demo is ready to use, with what to try next."""
    return [
        "chatshop dev: the demo catalog is indexed; the shop is ready",
        *_endpoints(stack, report, state_dir, logs_dir),
        *_demo(report.demo),
        *try_next(stack, report.demo, state_dir),
    ]


def _endpoints(stack: Any, report: Any, state_dir: Path, logs_dir: Path) -> list[str]:
    graph = stack.graph
    restored = report.restored
    return [
        f"  API:              {stack.gateway.url if stack.gateway else '-'}",
        f"  AWS emulator:     {stack.clients.endpoint_url if stack.clients else '-'}",
        f"  Graph API:        {graph.url + '/v21.0' if graph else '-'}"
        + (f"  (outbox: {graph.url}/_emulator/outbox)" if graph else ""),
        f"  State:            {state_dir.resolve()}"
        + (
            f" (restored {restored.items} items, {restored.objects} objects, {restored.messages} messages)"
            if restored
            else ""
        ),
        f"  Function logs:    {logs_dir.resolve()}  (chatshop logs <Function> --follow)",
    ]


def _secrets(stack: Any) -> list[str]:
    secrets = stack.webhook_secrets
    if secrets is None:
        return []
    if not secrets.defaulted:
        return [f"  WhatsApp secrets: from {APP_SECRET_VARIABLE} and {VERIFY_TOKEN_VARIABLE}"]
    return [
        f"  WhatsApp secrets: local defaults (set {APP_SECRET_VARIABLE} and {VERIFY_TOKEN_VARIABLE}"
        " to choose them)",
        f"    app secret:     {secrets.app_secret}",
        f"    verify token:   {secrets.verify_token}",
    ]


def _demo(demo: dict[str, str] | None) -> list[str]:
    if not demo:
        return []
    lines = [
        f"  Demo merchant:    {demo['merchant_id']}",
        f"  Demo API key:     {demo['api_key']}",
        f"  Demo shop:        {demo.get('shop_id', '-')}",
    ]
    if demo.get("phone_number_id"):
        lines.append(
            f"  Demo WhatsApp:    {demo['display_phone_number']} (number id {demo['phone_number_id']})"
        )
    if demo.get("link_url"):
        lines.append(f"  Demo link:        {demo['link_url']} (code {demo['link_code']})")
    return lines


def try_next(stack: Any, demo: dict[str, str] | None, state_dir: Path) -> list[str]:
    if not demo or not demo.get("shop_id") or stack.gateway is None:
        return []
    shop = demo["shop_id"]
    state = "" if state_dir == DEFAULT_STATE_DIR else f" --state-dir {shlex.quote(str(state_dir))}"
    photo = state_dir / "demo-photos" / f"{next(iter(PICTURES))}.jpg"
    lines = ["Try:"]
    if demo.get("phone_number_id"):
        lines += [
            f"  chatshop chat --shop {shop} --as {shlex.quote(DEMO_CUSTOMER)}{state}",
            f'    then say hi, ask "do you have a warm jacket under 100 dollars?", or /photo {photo}',
        ]
    lines += [
        f"  curl -H 'Authorization: Bearer {demo['api_key']}' {stack.gateway.url}/shops/{shop}/products",
        f"  curl '{stack.gateway.url}/search?shop_id={shop}&q=hoodie'",
    ]
    return lines


class IndexWatcher:
    """Shows the demo catalog's indexing on the status line until it is done, then calls ``done``."""

    def __init__(
        self,
        progress: Callable[[], tuple[int, int]],
        show: Callable[[str | None], None],
        done: Callable[[], None],
        every_s: float = 1.0,
    ) -> None:
        self._progress = progress
        self._show = show
        self._done = done
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                indexed, total = self._progress()
            except Exception as exc:  # noqa: BLE001 - a failed look is shown, and tried again
                self._show(f"Indexing demo catalog: progress unknown ({exc})")
            else:
                if total and indexed >= total:
                    self._show(None)
                    self._done()
                    return
                self._show(f"Indexing demo catalog: {indexed}/{total} products")
            self._stopping.wait(self._every_s)
