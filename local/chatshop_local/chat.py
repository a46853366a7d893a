"""`chatshop chat`: talk to a shop as one of its WhatsApp customers, against a running `chatshop dev`.

What the customer types goes to the Graph API emulator's ``POST /_emulator/inbound``, which posts it
to our webhook signed, as Meta would; what the shop sends back lands in the emulator's outbox, which a
background thread polls and prints. Nothing here talks to the backend another way.

    chatshop chat --shop <shop_id> --as "+1 555 0123 456" [--name Ana] [--state-dir .chatshop]

A line is sent as a text; ``/photo <file>``, ``/order <retailer_id>:<qty>,...`` and ``/tap <number>``
(or ``/tap <reply id>``) send an image, an order and a button or list reply; ``/pay`` pays the last
bill (WhatsApp's order_details, India and Brazil) the shop sent; ``/quit`` or end of input stops.
Standard input need not be a terminal, so a script can pipe lines in; at the end of piped input it
waits a little (``--wait``) for the shop's replies. The customer's number is shown only in the
header, as typed.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from .chat_render import Choice, choices, render
from .graph_emulator import (
    DEFAULT_PROFILE_NAME,
    button_reply,
    image_message,
    list_reply,
    order_message,
    text_message,
)
from .stack import running_stack

POLL_INTERVAL_S = 0.3
HTTP_TIMEOUT_S = 10.0
DEFAULT_WAIT_S = 5.0
QUIET_AFTER_REPLIES_S = 0.5
PLACEHOLDER_CATALOG_ID = "local-catalog"
PLACEHOLDER_CURRENCY = "USD"
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
MIN_DIGITS, MAX_DIGITS = 5, 15  # E.164 numbers have at most 15 digits
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

HELP = """\
Type a message and press Enter to send it. Commands:
  /photo <file>                      send a photo (.jpg, .jpeg, .png or .webp)
  /order <retailer_id>[:<qty>],...   send an order from the shop's catalog
  /tap <number> | <reply id>         tap a button or list row: its [number] in the shop's last
                                     message with choices, or the id in parentheses after it
  /pay [fail]                        pay the shop's last bill in the chat (or have the payment fail)
  /help                              show this again
  /quit                              leave (so does end of input)
Start a line with // to send a text that starts with /."""


class ChatError(Exception):
    """Why a chat cannot start: nothing runs, or the shop cannot be reached on WhatsApp."""


class EmulatorRefused(Exception):
    """The Graph API emulator answered with an error; the message is its own."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ShopChannel:
    shop_id: str
    phone_number_id: str
    display_phone_number: str
    catalog_id: str | None


@dataclass(frozen=True)
class OrderLine:
    retailer_id: str
    quantity: int


# --- finding the shop ---------------------------------------------------------------------------------


def customer_wa_id(phone: str) -> str:
    """A customer's WhatsApp id from a number as people write it: ``+1 555-0123`` -> ``15550123``."""
    digits = "".join(char for char in phone if char not in "+ -().")
    if not digits.isdigit() or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise ChatError(
            f"--as must be a phone number with {MIN_DIGITS} to {MAX_DIGITS} digits, e.g. +1 555 0123 456"
        )
    return digits


def running_runtime(state_dir: Path) -> dict[str, Any]:
    runtime = running_stack(state_dir)
    if runtime is None:
        raise ChatError(
            f"no chatshop dev is running with state dir {state_dir}; "
            f"start one first: chatshop dev --state-dir {state_dir}"
        )
    if "graph_url" not in runtime:
        raise ChatError(
            f"the chatshop dev running with state dir {state_dir} does not say where its Graph API "
            "emulator listens (it predates `chatshop chat`); restart it"
        )
    if not runtime["graph_url"]:
        raise ChatError(f"the chatshop dev running with state dir {state_dir} runs no Graph API emulator")
    return runtime


def find_channel(runtime: dict[str, Any], shop_id: str) -> ShopChannel:
    """The shop's connected WhatsApp number, read from the stack's messaging table."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        table = _table_name(runtime, "MessagingTable")
        item = (
            _aws_client(runtime, "dynamodb")
            .get_item(
                TableName=table,
                Key={"pk": {"S": f"SHOP#{shop_id}"}, "sk": {"S": "CHANNEL#whatsapp"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
    except (BotoCoreError, ClientError) as exc:
        raise ChatError(
            f"cannot read the shop's channel from the embedded AWS at {runtime['aws_url']}: {exc}"
        ) from None
    if not item or "phone_number_id" not in item:
        raise ChatError(
            f"shop {shop_id} has no WhatsApp channel in this chatshop dev (no such shop, or no number "
            f"connected: PUT /shops/{shop_id}/channels/whatsapp connects one)"
        )
    return ShopChannel(
        shop_id=shop_id,
        phone_number_id=item["phone_number_id"]["S"],
        display_phone_number=item.get("display_phone_number", {}).get("S", ""),
        catalog_id=item.get("catalog_id", {}).get("S"),
    )


class CatalogPrices:
    """A shop's products by retailer id, read from the local tables: prices for orders, and the
    title and price by which Meta's app would show a catalog item; best effort (a miss is left out)."""

    def __init__(self, runtime: dict[str, Any], shop_id: str) -> None:
        self._runtime = runtime
        self._shop_id = shop_id
        self._labels: dict[str, str] = {}

    def __call__(self, retailer_ids: list[str]) -> dict[str, tuple[Decimal, str]]:
        from chatshop.platform.iso import CURRENCY_EXPONENTS

        prices = {}
        for retailer_id, fields in self._fields(retailer_ids).items():
            try:
                price = fields["price"]
                exponent = CURRENCY_EXPONENTS.get(price["currency"], 2)
                prices[retailer_id] = (Decimal(price["amount"]).scaleb(-exponent), price["currency"])
            except (KeyError, TypeError, ValueError):
                continue
        return prices

    def labels(self, retailer_ids: list[str]) -> dict[str, str]:
        """``title: price`` per retailer id, remembered for the session (a chat shows few items)."""
        missing = [rid for rid in retailer_ids if rid not in self._labels]
        if missing:
            prices = self(missing)
            for retailer_id, fields in self._fields(missing).items():
                amount = prices.get(retailer_id)
                price = f": {amount[0]} {amount[1]}" if amount else ""
                self._labels[retailer_id] = f"{fields.get('title', retailer_id)}{price}"
        return {rid: self._labels[rid] for rid in retailer_ids if rid in self._labels}

    def _fields(self, retailer_ids: list[str]) -> dict[str, dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        from chatshop.shops.catalog import product_id_for

        keys = {f"PRODUCT#{product_id_for(self._shop_id, rid)}": rid for rid in dict.fromkeys(retailer_ids)}
        if not keys:
            return {}
        try:
            table = _table_name(self._runtime, "ShopsTable")
            answer = _aws_client(self._runtime, "dynamodb").batch_get_item(
                RequestItems={
                    table: {
                        "Keys": [{"pk": {"S": f"SHOP#{self._shop_id}"}, "sk": {"S": sk}} for sk in keys],
                        "ProjectionExpression": "sk, #f",
                        "ExpressionAttributeNames": {"#f": "fields"},
                    }
                }
            )
        except (BotoCoreError, ClientError):
            return {}
        found = {}
        for item in answer.get("Responses", {}).get(table, []):
            try:
                found[keys[item["sk"]["S"]]] = json.loads(item["fields"]["S"])
            except (KeyError, TypeError, ValueError):
                continue
        return found


def _aws_client(runtime: dict[str, Any], service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session(region_name=runtime["region"], **_EMULATOR_CREDENTIALS).client(
        service,
        endpoint_url=runtime["aws_url"],
        config=Config(connect_timeout=3, read_timeout=HTTP_TIMEOUT_S, retries={"max_attempts": 2}),
    )


def _table_name(runtime: dict[str, Any], logical_id: str) -> str:
    resource = _aws_client(runtime, "cloudformation").describe_stack_resource(
        StackName=runtime["stack"], LogicalResourceId=logical_id
    )
    return resource["StackResourceDetail"]["PhysicalResourceId"]


# --- the Graph API emulator ---------------------------------------------------------------------------


class GraphEmulatorClient:
    """The emulator's own routes (no token), over HTTP on loopback."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/_emulator/health")

    def outbox(self, wa_id: str, phone_number_id: str) -> list[dict[str, Any]]:
        query = urlencode({"to": wa_id, "phone_number_id": phone_number_id})
        return list(self._request("GET", f"/_emulator/outbox?{query}").get("messages", []))

    def store_media(self, phone_number_id: str, data: bytes, mime_type: str) -> str:
        headers = {"Content-Type": mime_type, "X-Phone-Number-Id": phone_number_id}
        return str(self._request("POST", "/_emulator/media", data, headers)["id"])

    def pay(self, phone_number_id: str, reference_id: str, status: str) -> dict[str, Any]:
        spec = {"phone_number_id": phone_number_id, "reference_id": reference_id, "status": status}
        return self._request(
            "POST", "/_emulator/payments", json.dumps(spec).encode(), {"Content-Type": "application/json"}
        )

    def inbound(
        self, phone_number_id: str, wa_id: str, profile_name: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        spec = {"phone_number_id": phone_number_id, "from": wa_id, "profile_name": profile_name}
        body = json.dumps({**spec, "message": message}).encode()
        headers = {"Content-Type": "application/json"}
        return self._request("POST", "/_emulator/inbound", body, headers)

    def _request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise EmulatorRefused(exc.code, _graph_error_message(exc)) from None


def _graph_error_message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read())["error"]["message"])
    except (ValueError, KeyError, TypeError, OSError):
        return f"HTTP {error.code}"


# --- the terminal -------------------------------------------------------------------------------------


class Console:
    """Lines to the terminal from two threads; on a terminal, the prompt survives a shop message."""

    def __init__(self, out: TextIO, shop_label: str, interactive: bool) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.shop_label = shop_label
        self.interactive = interactive
        self.prompt = "you> "
        self._at_prompt = False
        self._readline: Any = None
        if interactive:
            with contextlib.suppress(ImportError):
                import readline  # line editing and history for input(), where the platform has it

                self._readline = readline

    def read_line(self) -> str:
        """One typed line at the prompt; raises EOFError at the end of input."""
        with self._lock:
            # The prompt is written here, not by input(), so a shop message never lands between
            # "at the prompt" and the prompt itself.
            self._out.write(self.prompt)
            self._out.flush()
            self._at_prompt = True
        try:
            return input("")
        finally:
            with self._lock:
                self._at_prompt = False

    def shop(self, lines: list[str]) -> None:
        first, *rest = lines
        pad = " " * (len(self.shop_label) + 2)
        self._write([f"{self.shop_label}> {first}", *(f"{pad}{line}" for line in rest)])

    def you(self, text: str) -> None:
        """What the customer sent; a terminal shows it already, at the prompt."""
        if not self.interactive:
            self._write([f"{self.prompt}{text}"])

    def note(self, text: str) -> None:
        self._write([f"  * {text}"])

    def plain(self, text: str) -> None:
        self._write(text.splitlines())

    def _write(self, lines: list[str]) -> None:
        with self._lock:
            if self._at_prompt:
                # Clear the half-typed line, print, then give back the prompt and what was typed.
                typed = self._readline.get_line_buffer() if self._readline else ""
                self._out.write("\r\x1b[K" + "\n".join(lines) + "\n" + self.prompt + typed)
            else:
                self._out.write("\n".join(lines) + "\n")
            self._out.flush()


# --- the chat ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tappable:
    choice: Choice
    message_id: str


class ChatSession:
    def __init__(
        self,
        graph: GraphEmulatorClient,
        channel: ShopChannel,
        wa_id: str,
        profile_name: str,
        console: Console,
        prices: Callable[[list[str]], dict[str, tuple[Decimal, str]]] | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._graph = graph
        self._channel = channel
        self._wa_id = wa_id
        self._profile_name = profile_name
        self._console = console
        self._prices = prices
        labels = getattr(prices, "labels", None)
        self._describe = labels if callable(labels) else None
        self._poll_interval_s = poll_interval_s
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._tappable: dict[str, _Tappable] = {}
        # The choices of the shop's latest message that had any, in the order they are numbered.
        self._numbered: list[_Tappable] = []
        self._last_shop_message: str | None = None
        self._last_bill: str | None = None
        self._sent = 0
        self._received = 0
        self._last_received_at = 0.0
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name="chat-outbox", daemon=True)
        self._unreachable = False

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Remember what the shop sent this customer before (to tap, not to print), then follow the outbox."""
        for entry in self._graph.outbox(self._wa_id, self._channel.phone_number_id):
            self._remember(entry)
        self._poller.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._poller.is_alive():
            self._poller.join(HTTP_TIMEOUT_S + 1)

    def wait_for_replies(self, timeout_s: float) -> None:
        """Until the shop has answered everything sent (and then gone quiet a moment), or the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self._stopping.is_set():
            with self._lock:
                answered = self._received >= self._sent
                quiet = time.monotonic() - self._last_received_at >= QUIET_AFTER_REPLIES_S
            if answered and quiet:
                return
            time.sleep(0.1)

    # -- what the customer does -------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Act on one typed line; False when the chat should end."""
        text = line.rstrip("\r\n")
        if not text.strip():
            return True
        self._console.you(text)
        if text.startswith("//"):
            self._send(text_message(text[1:]))
            return True
        if not text.startswith("/"):
            self._send(text_message(text))
            return True
        command, _, argument = text[1:].partition(" ")
        argument = argument.strip()
        match command.lower():
            case "quit" | "exit":
                return False
            case "help":
                self._console.plain(HELP)
            case "photo":
                self._photo(argument)
            case "order":
                self._order(argument)
            case "tap":
                self._tap(argument)
            case "pay":
                self._pay(argument)
            case _:
                self._console.note(f"unknown command /{command}; /help lists them (// sends a literal /)")
        return True

    def _photo(self, argument: str) -> None:
        if not argument:
            self._console.note("usage: /photo <file>")
            return
        path = Path(argument).expanduser()
        mime_type = IMAGE_TYPES.get(path.suffix.lower())
        if mime_type is None:
            self._console.note(f"cannot send {path.name}: a photo must be one of {', '.join(IMAGE_TYPES)}")
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._console.note(f"cannot read {argument}: {exc.strerror or exc}")
            return
        if not data:
            self._console.note(f"cannot send {path.name}: the file is empty")
            return
        try:
            media_id = self._graph.store_media(self._channel.phone_number_id, data, mime_type)
        except (EmulatorRefused, OSError) as exc:
            self._console.note(f"photo not uploaded: {_reason(exc)}")
            return
        if self._send(image_message(media_id)):
            self._console.note(f"sent photo {path.name} ({mime_type}, {len(data)} bytes)")

    def _order(self, argument: str) -> None:
        try:
            lines = parse_order(argument)
        except ValueError as exc:
            self._console.note(
                f"{exc}; usage: /order <retailer_id>[:<qty>],...  e.g. /order TEE-BLK-M:2,CAP-NVY"
            )
            return
        prices = self._prices([line.retailer_id for line in lines]) if self._prices else {}
        unknown = [line.retailer_id for line in lines if line.retailer_id not in prices]
        items = []
        for line in lines:
            price, currency = prices.get(line.retailer_id, (Decimal(0), PLACEHOLDER_CURRENCY))
            items.append(
                {
                    "product_retailer_id": line.retailer_id,
                    "quantity": line.quantity,
                    "item_price": _json_number(price),
                    "currency": currency,
                }
            )
        catalog_id = self._channel.catalog_id or PLACEHOLDER_CATALOG_ID
        if self._send(order_message(catalog_id, items)):
            summary = ", ".join(f"{item['quantity']} x {item['product_retailer_id']}" for item in items)
            self._console.note(f"sent order: {summary}")
            if unknown:
                self._console.note(f"no price found for {', '.join(unknown)}; sent 0 {PLACEHOLDER_CURRENCY}")

    def _tap(self, argument: str) -> None:
        if not argument:
            self._console.note(
                "usage: /tap <number> or /tap <reply id>  (the [number] before a button or row, "
                "or the id in parentheses after it)"
            )
            return
        with self._lock:
            known = self._tappable.get(argument) or _numbered_choice(self._numbered, argument)
            last_message = self._last_shop_message
        if known is None and argument.isdecimal():
            self._console.note(f"the shop's last message with choices has no [{argument}]")
            return
        if known is None:
            message = button_reply(argument, argument, last_message or "")
            if last_message is None:
                message.pop("context")
            if self._send(message):
                self._console.note(
                    f"no message the shop sent has a reply {argument!r}; sent it as a button anyway"
                )
            return
        choice = known.choice
        if choice.kind == "list":
            message = list_reply(choice.id, choice.title, known.message_id, choice.description)
        else:
            message = button_reply(choice.id, choice.title, known.message_id)
        if self._send(message):
            self._console.note(f"tapped {choice.title!r} ({choice.id})")

    def _pay(self, argument: str) -> None:
        with self._lock:
            reference_id = self._last_bill
        if reference_id is None:
            self._console.note(
                "the shop sent no bill to pay here (WhatsApp takes payments in the chat in India and "
                "Brazil; elsewhere open the payment link)"
            )
            return
        status = "failed" if argument.lower() in ("fail", "failed") else "captured"
        try:
            self._graph.pay(self._channel.phone_number_id, reference_id, status)
        except (EmulatorRefused, OSError) as exc:
            self._console.note(f"not paid: {_reason(exc)}")
            return
        self._console.note(f"paid the bill {reference_id}" if status == "captured" else "the payment failed")

    def _send(self, message: dict[str, Any]) -> bool:
        try:
            self._graph.inbound(self._channel.phone_number_id, self._wa_id, self._profile_name, message)
        except (EmulatorRefused, OSError) as exc:
            self._console.note(f"not sent: {_reason(exc)}")
            return False
        with self._lock:
            self._sent += 1
        return True

    # -- what the shop sends ----------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Print what the shop sent since the last look; how many messages that was."""
        new = 0
        for entry in self._graph.outbox(self._wa_id, self._channel.phone_number_id):
            if self._remember(entry):
                self._console.shop(render(entry.get("body"), self._describe))
                new += 1
        if new:
            with self._lock:
                self._received += new
                self._last_received_at = time.monotonic()
        return new

    def _remember(self, entry: dict[str, Any]) -> bool:
        message_id = str(entry.get("id", ""))
        with self._lock:
            if message_id in self._seen:
                return False
            self._seen.add(message_id)
            self._last_shop_message = message_id
            bill = _bill_reference(entry.get("body"))
            if bill is not None:
                self._last_bill = bill
            tappable = [_Tappable(choice, message_id) for choice in choices(entry.get("body"))]
            for known in tappable:
                self._tappable[known.choice.id] = known
            if tappable:
                self._numbered = tappable
        return True

    def _poll_loop(self) -> None:
        while not self._stopping.wait(self._poll_interval_s):
            try:
                self.poll_once()
            except (EmulatorRefused, OSError, ValueError) as exc:
                if not self._unreachable:
                    self._console.note(f"cannot read the shop's replies: {_reason(exc)} (still trying)")
                self._unreachable = True
            else:
                if self._unreachable:
                    self._console.note("the shop's replies are back")
                self._unreachable = False


def _numbered_choice(numbered: list[_Tappable], argument: str) -> _Tappable | None:
    """The choice shown as ``[argument]`` in the shop's latest message with choices, if any."""
    if not argument.isdecimal():
        return None
    number = int(argument)
    return numbered[number - 1] if 1 <= number <= len(numbered) else None


def _bill_reference(body: Any) -> str | None:
    """The reference id of an order_details message (WhatsApp's bill), else None."""
    interactive = body.get("interactive") if isinstance(body, dict) else None
    if not isinstance(interactive, dict) or interactive.get("type") != "order_details":
        return None
    parameters = (interactive.get("action") or {}).get("parameters") or {}
    reference_id = parameters.get("reference_id")
    return reference_id if isinstance(reference_id, str) else None


def parse_order(argument: str) -> list[OrderLine]:
    """``TEE-BLK-M:2, CAP-NVY`` -> two lines; the quantity defaults to 1."""
    lines = []
    for part in (piece.strip() for piece in argument.split(",")):
        if not part:
            continue
        retailer_id, _, quantity = part.rpartition(":") if ":" in part else (part, "", "1")
        retailer_id, quantity = retailer_id.strip(), quantity.strip()
        if not retailer_id or not quantity.isdigit() or int(quantity) < 1:
            raise ValueError(f"{part!r} is not <retailer_id>:<quantity of 1 or more>")
        lines.append(OrderLine(retailer_id, int(quantity)))
    if not lines:
        raise ValueError("name at least one product")
    return lines


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EmulatorRefused):
        return str(exc)
    if isinstance(exc, urllib.error.URLError):
        return f"chatshop dev is not answering ({exc.reason})"
    return str(exc) or exc.__class__.__name__


# --- the command --------------------------------------------------------------------------------------


def run_chat(
    shop_id: str,
    phone: str,
    state_dir: Path,
    profile_name: str | None = None,
    wait_s: float = DEFAULT_WAIT_S,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """The whole command; raises ChatError (exit 2) when the chat cannot start."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    wa_id = customer_wa_id(phone)
    runtime = running_runtime(state_dir)
    channel = find_channel(runtime, shop_id)
    graph = GraphEmulatorClient(runtime["graph_url"])
    interactive = stdin.isatty() and stdout.isatty()
    label = channel.display_phone_number or "shop"
    console = Console(stdout, label, interactive)
    name = profile_name or DEFAULT_PROFILE_NAME
    session = ChatSession(graph, channel, wa_id, name, console, CatalogPrices(runtime, shop_id))
    try:
        session.start()
    except (EmulatorRefused, OSError) as exc:
        raise ChatError(f"cannot reach the Graph API emulator at {graph.url}: {_reason(exc)}") from None
    console.plain(
        f"Chatting with shop {shop_id} on WhatsApp {label} as {phone} ({name}).\n{HELP}"
        if interactive
        else f"Chatting with shop {shop_id} on WhatsApp {label} as {phone} ({name}). /help lists commands."
    )
    quit_typed = False
    try:
        for line in _lines(stdin, console):
            if not session.handle(line):
                quit_typed = True
                break
        if not quit_typed and not interactive:
            session.wait_for_replies(wait_s)
    except KeyboardInterrupt:
        pass
    finally:
        session.stop()
    if interactive:
        stdout.write("\n")
    console.note("chat ended")
    return 0


def _lines(stdin: TextIO, console: Console) -> Iterator[str]:
    if console.interactive:
        while True:
            try:
                yield console.read_line()
            except EOFError:
                return
    else:
        while line := stdin.readline():
            yield line
