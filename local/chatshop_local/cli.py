"""`chatshop`: run the backend on this machine, or invoke one of its functions."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

from .banner import READY_LINE, IndexWatcher, ready_banner, short_banner, try_next
from .deploy import DeployError
from .devterminal import DevTerminal
from .emulator import EmulatorError, free_port
from .gateway import GatewayError
from .logfiles import log_path, logs_dir, pretty, read_lines
from .seed import demo_index_progress
from .stack import LocalStack, StackOptions, StateNotSaved, running_stack
from .template import Template, TemplateError, load_template

DEFAULT_TEMPLATE = Path("template.yaml")
DEFAULT_ROLLOUT = Path("infra/rollout.yaml")
DEFAULT_REGION = "us-east-1"
DEFAULT_SAVE_EVERY_S = 5.0


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
    dev.add_argument(
        "--state-dir",
        type=Path,
        help="where data survives restarts (default .chatshop; another region's under .chatshop/regions/)",
    )
    dev.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help="run the stack this region deploys: only the features live in its countries "
        f"(default {DEFAULT_REGION})",
    )
    dev.add_argument("--no-seed", dest="seed", action="store_false", help="start without demo data")
    dev.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    dev.add_argument(
        "--verbose",
        action="store_true",
        help="show the functions' JSON logs too, not only one line per event",
    )
    dev.add_argument(
        "--save-every",
        type=float,
        default=DEFAULT_SAVE_EVERY_S,
        metavar="SECONDS",
        help=f"while running, save the state this often if it changed (default {DEFAULT_SAVE_EVERY_S:g}; "
        "0: only on Ctrl-C)",
    )
    dev.set_defaults(run=_dev)

    logs = commands.add_parser("logs", help="print a function's log from chatshop dev's state folder")
    logs.add_argument("function", help="the function's logical id in template.yaml")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing lines as they are written")
    logs.add_argument("--json", action="store_true", help="the JSON lines as written, not formatted")
    logs.add_argument("--state-dir", type=Path, default=Path(".chatshop"), help="chatshop dev's state dir")
    logs.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    logs.set_defaults(run=_logs)

    invoke = commands.add_parser("invoke", help="invoke one function once with a given or generated event")
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("--event", help="a JSON file with the event, or - for standard input")
    invoke.add_argument("--state-dir", type=Path, default=Path(".chatshop"))
    invoke.add_argument("--region", default="us-east-1")
    invoke.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    invoke.set_defaults(run=_invoke)

    regions = commands.add_parser(
        "regions", help="print features x countries x regions, and what each region deploys, from the rollout"
    )
    regions.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    regions.add_argument("--rollout", type=Path, default=DEFAULT_ROLLOUT)
    regions.add_argument(
        "--write-template",
        action="store_true",
        help="bring the template's Deploys<Feature> conditions in step with the rollout",
    )
    regions.add_argument("--names", action="store_true", help="print only the region names, space-separated")
    regions.set_defaults(run=_regions)

    processing = commands.add_parser(
        "processing", help="print the record of processing (GDPR Art. 30) from the template and the rollout"
    )
    processing.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    processing.add_argument("--rollout", type=Path, default=DEFAULT_ROLLOUT)
    processing.set_defaults(run=_processing)

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
    if args.state_dir is None:
        # Each region's stack keeps its own data, as each region's AWS account does.
        root = Path(".chatshop")
        args.state_dir = root if args.region == DEFAULT_REGION else root / "regions" / args.region
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    template = load_template(args.template)
    terminal = DevTerminal(args.state_dir, verbose=args.verbose, services=_service_owners(template))
    terminal.install()
    signal.signal(signal.SIGWINCH, lambda *_: terminal.console.repin())
    stack = LocalStack(
        StackOptions(
            template_path=args.template,
            state_dir=args.state_dir,
            region=args.region,
            api_port=args.port,
            aws_port=args.aws_port,
            graph_port=args.graph_port,
            seed=args.seed,
            on_invocation=terminal.invocation,
            save_every_s=args.save_every if args.save_every > 0 else None,
        )
    )
    try:
        report = stack.start()
        watcher = _announce(stack, report, args, terminal)
        stopping.wait()
        if watcher is not None:
            watcher.stop()
        terminal.console.status(None)
        terminal.console.unpin()
        terminal.console.line("stopping...")
        saved = stack.stop()
        if saved is not None:
            terminal.console.line(
                f"stopped; saved {saved.items} items, {saved.objects} objects, {saved.messages} messages and "
                f"{saved.parameters} parameters to {args.state_dir}"
            )
    finally:
        terminal.close()
    _leave_without_finalizing()


def _regions(args: argparse.Namespace) -> int:
    from chatshop.platform.rollout import Rollout

    from .regions import TemplateOutOfStep, matrix_lines, write_template

    rollout = Rollout.from_yaml(args.rollout)
    if args.names:
        print(" ".join(sorted(rollout.regions)))
        return 0
    if args.write_template:
        try:
            changed = write_template(args.template, rollout)
        except TemplateOutOfStep as exc:
            print(f"chatshop: {exc}", file=sys.stderr)
            return 2
        state = "conditions rewritten from" if changed else "already in step with"
        print(f"{args.template}: {state} {args.rollout}")
        return 0
    for line in matrix_lines(rollout, load_template(args.template).body):
        print(line)
    return 0


def _processing(args: argparse.Namespace) -> int:
    from chatshop.platform.rollout import Rollout

    from .processing import MissingEntry, markdown, record

    rollout = Rollout.from_yaml(args.rollout)
    try:
        entries = record(load_template(args.template).body, rollout)
    except MissingEntry as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 2
    for line in markdown(entries, rollout):
        print(line)
    return 0


def _leave_without_finalizing() -> NoReturn:
    """Everything is stopped and saved by now, but a function may still be in its cold start on a
    daemon thread (the indexer loading its models takes tens of seconds): finalizing the interpreter
    under it aborts the process from native code (std::terminate). Leave as the process is."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _announce(
    stack: LocalStack, report: Any, args: argparse.Namespace, terminal: DevTerminal
) -> IndexWatcher | None:
    """The ready banner; while the demo catalog is indexed, its progress, then the banner again."""
    console, logs = terminal.console, logs_dir(args.state_dir)
    shop_id = (report.demo or {}).get("shop_id")
    indexed = shop_id is None or _all_indexed(stack, shop_id)
    lines = ready_banner(stack, report, args.state_dir, args.region, logs)
    lines += try_next(stack, report.demo, args.state_dir) if indexed else []
    lines.append(READY_LINE)
    console.line("\n".join(lines))
    if indexed or shop_id is None:
        if report.demo and console.is_terminal:
            console.pin(short_banner(stack, report, args.state_dir, logs))
        return None

    def ready() -> None:
        console.pin(short_banner(stack, report, args.state_dir, logs))

    watcher = IndexWatcher(lambda: demo_index_progress(stack.functions, shop_id), console.status, ready)
    watcher.start()
    return watcher


def _all_indexed(stack: LocalStack, shop_id: str) -> bool:
    try:
        indexed, total = demo_index_progress(stack.functions, shop_id)
    except Exception:  # noqa: BLE001 - unknown: the watcher will look again
        return False
    return total > 0 and indexed >= total


def _service_owners(template: Template) -> dict[str, str]:
    """Each function's powertools service name (POWERTOOLS_SERVICE_NAME), to tell its log lines apart."""
    owners = {}
    for spec in template.functions():
        properties = template.resources[spec.logical_id].get("Properties", {})
        service = properties.get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME")
        if isinstance(service, str):
            owners[service] = spec.logical_id
    return owners


def _logs(args: argparse.Namespace) -> int:
    known = [spec.logical_id for spec in load_template(args.template).functions()]
    if args.function not in known:
        print(f"chatshop logs: no function {args.function!r}; functions: {', '.join(known)}", file=sys.stderr)
        return 2
    path = log_path(args.state_dir, args.function)
    if not path.is_file() and not args.follow:
        print(f"chatshop logs: {args.function} has not logged yet ({path} does not exist)", file=sys.stderr)
        return 1
    show = (lambda line: line) if args.json else pretty
    try:
        for line in read_lines(path, follow=args.follow):
            print(show(line), flush=True)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # | head
        sys.stderr.close()
    return 0


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
