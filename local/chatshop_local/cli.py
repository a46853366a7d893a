"""`chatshop`: run the backend on this machine, or invoke one of its functions."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .deploy import DeployError
from .emulator import EmulatorError, free_port
from .gateway import GatewayError
from .stack import LocalStack, StackOptions, StateNotSaved, running_stack
from .template import TemplateError, load_template
from .whatsapp_secrets import APP_SECRET_VARIABLE, VERIFY_TOKEN_VARIABLE

DEFAULT_TEMPLATE = Path("template.yaml")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # moto and botocore are chatty at INFO; their warnings still show.
    for noisy in ("botocore", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.run(args)
    except (TemplateError, DeployError, EmulatorError, GatewayError, StateNotSaved) as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatshop", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="run every function of template.yaml locally on an embedded AWS")
    dev.add_argument("--port", type=int, default=8000, help="local API gateway port (default 8000)")
    dev.add_argument("--aws-port", type=int, default=4566, help="embedded AWS port (default 4566)")
    dev.add_argument("--graph-port", type=int, default=8001, help="Graph API emulator port (default 8001)")
    dev.add_argument("--state-dir", type=Path, default=Path(".chatshop"), help="where data survives restarts")
    dev.add_argument("--region", default="us-east-1")
    dev.add_argument("--no-seed", dest="seed", action="store_false", help="start without demo data")
    dev.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    dev.set_defaults(run=_dev)

    invoke = commands.add_parser("invoke", help="invoke one function once with a given or generated event")
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("--event", help="a JSON file with the event, or - for standard input")
    invoke.add_argument("--state-dir", type=Path, default=Path(".chatshop"))
    invoke.add_argument("--region", default="us-east-1")
    invoke.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    invoke.set_defaults(run=_invoke)

    chat = commands.add_parser("chat", help="chat with a shop as its WhatsApp customer (needs chatshop dev)")
    chat.add_argument("--shop", required=True, help="the shop's id (chatshop dev prints the demo shop's)")
    chat.add_argument("--as", dest="phone", required=True, help='your phone number, e.g. "+1 555 0123 456"')
    chat.add_argument("--name", help="your WhatsApp profile name")
    chat.add_argument("--state-dir", type=Path, default=Path(".chatshop"), help="chatshop dev's state dir")
    chat.add_argument(
        "--wait", type=float, default=5.0, help="at the end of piped input, seconds to wait for replies"
    )
    chat.set_defaults(run=_chat)
    return parser


def _dev(args: argparse.Namespace) -> int:
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack = LocalStack(
        StackOptions(
            template_path=args.template,
            state_dir=args.state_dir,
            region=args.region,
            api_port=args.port,
            aws_port=args.aws_port,
            graph_port=args.graph_port,
            seed=args.seed,
        )
    )
    report = stack.start()
    _print_ready(stack, report, args)
    stopping.wait()
    print("stopping...", flush=True)
    saved = stack.stop()
    if saved is not None:
        print(
            f"stopped; saved {saved.items} items, {saved.objects} objects, {saved.messages} messages and "
            f"{saved.parameters} parameters "
            f"to {args.state_dir}",
            flush=True,
        )
    return 0


def _print_ready(stack: LocalStack, report: Any, args: argparse.Namespace) -> None:
    described = stack.describe()
    lines = [
        f"chatshop dev is ready in {report.seconds:.1f}s (region {args.region})",
        f"  API:              {stack.gateway.url if stack.gateway else '-'}",
        f"  AWS emulator:     {stack.clients.endpoint_url if stack.clients else '-'}",
        f"  Graph API:        {stack.graph.url + '/v21.0' if stack.graph else '-'}"
        + (f"  (outbox: {stack.graph.url}/_emulator/outbox)" if stack.graph else ""),
        f"  State:            {args.state_dir.resolve()}"
        + (
            f" (restored {report.restored.items} items, {report.restored.objects} objects, "
            f"{report.restored.messages} messages)"
            if report.restored
            else ""
        ),
    ]
    secrets = stack.webhook_secrets
    if secrets is not None:
        if secrets.defaulted:
            lines += [
                f"  WhatsApp secrets: local defaults (set {APP_SECRET_VARIABLE} and {VERIFY_TOKEN_VARIABLE}"
                " to choose them)",
                f"    app secret:     {secrets.app_secret}",
                f"    verify token:   {secrets.verify_token}",
            ]
        else:
            lines.append(f"  WhatsApp secrets: from {APP_SECRET_VARIABLE} and {VERIFY_TOKEN_VARIABLE}")
    if report.demo:
        lines += [
            f"  Demo merchant:    {report.demo['merchant_id']}",
            f"  Demo API key:     {report.demo['api_key']}",
            f"  Demo shop:        {report.demo.get('shop_id', '-')}",
        ]
        if report.demo.get("phone_number_id"):
            demo = report.demo
            lines += [
                f"  Demo WhatsApp:    {demo['display_phone_number']} (number id {demo['phone_number_id']})",
                f"  Chat as a customer: chatshop chat --shop {demo['shop_id']} --as +15550123456",
            ]
    for title in ("functions", "queues", "streams", "schedules"):
        lines.append(f"  {title.capitalize()}:")
        lines += [f"    {entry}" for entry in described[title]] or ["    (none)"]
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


def _invoke(args: argparse.Namespace) -> int:
    load_template(args.template).function(args.function)  # fail fast on a misspelt name
    running = running_stack(args.state_dir)
    options = StackOptions(
        template_path=args.template,
        state_dir=args.state_dir,
        region=running["region"] if running else args.region,
        aws_port=free_port(),
        seed=False,
        serve=False,
        attach_to=running["aws_url"] if running else None,
    )
    stack = LocalStack(options)
    stack.start()
    try:
        event = _read_event(args.event) if args.event else _generated_event(stack, args.function)
        result = stack.invoke(args.function, event)
    finally:
        stack.stop(save=running is None)
    if not result.ok:
        assert result.error is not None
        print(f"{result.error['errorType']}: {result.error['errorMessage']}", file=sys.stderr)
        return 1
    print(json.dumps(result.payload, indent=2, default=str))
    return 0


def _chat(args: argparse.Namespace) -> int:
    from .chat import ChatError, run_chat

    try:
        return run_chat(args.shop, args.phone, args.state_dir, args.name, wait_s=args.wait)
    except ChatError as exc:
        print(f"chatshop chat: {exc}", file=sys.stderr)
        return 2


def _read_event(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    return json.loads(text)


def _generated_event(stack: LocalStack, function: str) -> Any:
    from .sample_events import sample_event

    assert stack.stack is not None
    spec = stack.template.function(function)
    physical = {lid: res.physical_id for lid, res in stack.stack.resources.items()}
    return sample_event(spec, stack.options.region, stack.stack.account_id, physical)


if __name__ == "__main__":
    sys.exit(main())
