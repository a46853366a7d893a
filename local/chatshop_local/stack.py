"""The whole backend on this machine: embedded AWS, the template's stack, and its functions wired up."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.token_vault import TokenVault
from chatshop.platform.config import load_settings

from . import environ
from .ads_secrets import install_ads_secrets
from .apigw import GatewayContext
from .aws import EmulatorClients
from .clock import LocalClock, ScheduleMapping
from .deploy import DeployedStack, DeployError, deploy, read_stack
from .dynamodb_streams import StreamMapping, StreamPoller
from .emulator import EMULATOR_CREDENTIALS, LOOPBACK, MotoServer
from .event_filters import FilterPatternError, parse_pattern
from .expiry import ExpirySweeper
from .functions import DEFAULT_SANDBOXES, InvocationResult, LocalFunction, lambda_environment
from .gateway import LocalGateway, routes_from
from .graph_emulator import GraphEmulator
from .invocations import API, INVOKE, Observer, describe
from .loops import BackgroundLoop
from .s3_events import S3EventRelay, S3Mapping, create_relays
from .schedules import parse_schedule
from .seed import (
    DEMO_ACCESS_TOKEN,
    DEMO_DISPLAY_NUMBER,
    DEMO_OFFER_TEMPLATE,
    DEMO_PHONE_NUMBER_ID,
    DEMO_REGION,
    DEMO_WABA_ID,
    seed_demo_data,
)
from .sqs_poller import SqsMapping, SqsPoller
from .state import PeriodicSaver, SnapshotSummary, StateStore
from .template import (
    ApiEvent,
    DynamoDBEvent,
    S3Event,
    ScheduleEvent,
    SqsEvent,
    Template,
    TemplateError,
    load_template,
)
from .whatsapp_secrets import LocalWebhookSecrets, install_webhook_secrets

log = logging.getLogger("chatshop.local")

RUNTIME_FILE = "runtime.json"
SECRETS_PATH_VARIABLE = "CHATSHOP_SECRETS_PATH"
GRAPH_API_PARAMETER = "GraphApiUrl"
GRAPH_API_VERSION = "v21.0"
WHATSAPP_WEBHOOK_PATH = "/webhooks/whatsapp"


class StateNotSaved(RuntimeError):
    pass


@dataclass(frozen=True)
class StackOptions:
    template_path: Path
    state_dir: Path
    region: str = "us-east-1"
    api_port: int = 8000
    aws_port: int = 4566
    graph_port: int = 8001
    seed: bool = True
    serve: bool = True
    stack_name: str = "chatshop"
    parameters: Mapping[str, str] = field(default_factory=lambda: {"Stage": "local"})
    attach_to: str | None = None  # the emulator URL of a running `chatshop dev`
    # Functions not fed from their queues (their jobs wait there), for tests that read the jobs.
    idle: frozenset[str] = frozenset()
    # Told of every invocation once it has ended (the dev terminal's lines come from here).
    on_invocation: Observer | None = None
    # Save the state this often while running (None: only when stopping).
    save_every_s: float | None = None
    # Meta for several regions' stacks: a running Graph API emulator this stack's functions call
    # (instead of one of its own on graph_port), told where this stack's numbers are connected.
    meta: GraphEmulator | None = None


@dataclass(frozen=True)
class StartReport:
    seconds: float
    restored: SnapshotSummary | None
    demo: dict[str, str] | None


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        # Only what this region deploys runs: its functions, queues and schedules.
        self.template: Template = load_template(options.template_path).in_region(
            options.region, dict(options.parameters)
        )
        self.state = StateStore(options.state_dir)
        self.emulator: MotoServer | None = None
        self.clients: EmulatorClients | None = None
        self.stack: DeployedStack | None = None
        self.functions: dict[str, LocalFunction] = {}
        self.gateway: LocalGateway | None = None
        self.loops: list[BackgroundLoop] = []
        self.stream_pollers: list[StreamPoller] = []
        self.clock: LocalClock | None = None
        self.webhook_secrets: LocalWebhookSecrets | None = None
        self.graph: GraphEmulator | None = None
        self.saver: PeriodicSaver | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> StartReport:
        started = time.monotonic()
        environ.install()
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            restored, demo = self._bring_up()
        except BaseException:
            self.stop(save=False)
            raise
        return StartReport(time.monotonic() - started, restored, demo)

    def _bring_up(self) -> tuple[SnapshotSummary | None, dict[str, str] | None]:
        opts = self.options
        if opts.attach_to:
            self.clients = EmulatorClients(opts.attach_to, opts.region)
            self.stack = read_stack(self.clients, opts.stack_name, opts.region)
        else:
            self.emulator = MotoServer(opts.aws_port, log_path=opts.state_dir / "emulator.log")
            self.emulator.start()
            self.clients = EmulatorClients(self.emulator.url, opts.region)
            self.stack = deploy(self.template, self.clients, opts.stack_name, opts.region, self._parameters())
        self.functions = self._make_functions()
        self.webhook_secrets = self._install_webhook_secrets()
        restored, demo = None, None
        if not opts.attach_to and self.state.has_snapshot():
            restored = self.state.restore(self.stack, self.clients)
        if opts.serve:
            # Restored items are the saved state, not changes to pass on (the index they fed was saved
            # too); the demo data seeded below is new.
            self.stream_pollers = self._open_streams(skip_restored=restored is not None)
        if not opts.attach_to:
            if restored is None and opts.seed and opts.region == DEMO_REGION:
                seed_demo_data(self.functions, opts.state_dir)
            demo = read_demo(opts.state_dir)
        if opts.serve:
            self._serve()
            self._write_runtime_file()
        return restored, demo

    def _start_saver(self) -> None:
        if self.options.save_every_s is None or self.emulator is None:
            return
        assert self.stack is not None and self.clients is not None
        stack, clients = self.stack, self.clients
        self.saver = PeriodicSaver(
            lambda: self.state.save(stack, clients, queues=False), self.options.save_every_s
        )
        self.saver.touch()  # what was restored or seeded is saved once at least
        self.loops.append(self.saver)

    def _install_webhook_secrets(self) -> LocalWebhookSecrets | None:
        """Where the template's functions read secrets from, put the local webhook secrets there."""
        assert self.clients is not None
        paths = {f.environment.get(SECRETS_PATH_VARIABLE) for f in self.functions.values()} - {None}
        if not paths:
            return None
        secrets = None
        for path in sorted(p for p in paths if p):
            secrets = install_webhook_secrets(self.clients.client("ssm"), path)
            install_ads_secrets(self.clients.client("ssm"), path)
        return secrets

    def _parameters(self) -> dict[str, str]:
        parameters = dict(self.options.parameters)
        if GRAPH_API_PARAMETER in self.template.body.get("Parameters", {}):
            # Functions call the local Graph API emulator, never Meta.
            graph = (
                self.options.meta.url if self.options.meta else f"http://{LOOPBACK}:{self.options.graph_port}"
            )
            parameters[GRAPH_API_PARAMETER] = f"{graph}/{GRAPH_API_VERSION}"
        return parameters

    def stop(self, save: bool = True) -> SnapshotSummary | None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self.graph is not None:
            if self.graph is self.options.meta:
                self.graph.remove_number_source(self._connected_number)  # Meta is its owner's to stop
            else:
                self.graph.stop()
            self.graph = None
        for loop in self.loops:
            loop.stop()
        for loop in self.loops:
            loop.join()
        self.loops = []
        self.saver = None
        saved, failure = None, None
        if save and self.emulator is not None and self.stack is not None and self.clients is not None:
            try:
                saved = self.state.save(self.stack, self.clients)
            except Exception as exc:  # noqa: BLE001 - whatever went wrong, everything still stops
                failure = exc
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        (self.options.state_dir / RUNTIME_FILE).unlink(missing_ok=True)
        if failure is not None:
            raise StateNotSaved(
                f"the state could not be saved ({failure}); the previous save is kept"
            ) from failure
        return saved

    # --- invoking ----------------------------------------------------------------------------

    def invoke(self, logical_id: str, event: Any, trigger: str = INVOKE) -> InvocationResult:
        try:
            function = self.functions[logical_id]
        except KeyError:
            raise KeyError(f"no function {logical_id!r}; functions: {', '.join(self.functions)}") from None
        result = function.invoke(event)
        if self.saver is not None:
            self.saver.touch()
        if self.options.on_invocation is not None:
            self.options.on_invocation(describe(logical_id, trigger, event, result))
        return result

    def _invoker(self, trigger: str) -> Callable[[str, Any], InvocationResult]:
        """``invoke`` for one event source, which names itself as the trigger."""
        return lambda logical_id, event: self.invoke(logical_id, event, trigger)

    def _logical_id(self, physical_id: str) -> str:
        assert self.stack is not None
        return next(
            (lid for lid, res in self.stack.resources.items() if res.physical_id == physical_id), physical_id
        )

    # --- wiring ------------------------------------------------------------------------------

    def function_base_environ(self) -> dict[str, str]:
        """What every function inherits from the process: no real AWS settings, the emulator's instead."""
        assert self.clients is not None
        process = environ.process_environ()
        inherited = {k: v for k, v in process.items() if not k.startswith("AWS_")}
        return {**inherited, **EMULATOR_CREDENTIALS, "AWS_ENDPOINT_URL": self.clients.endpoint_url}

    def _make_functions(self) -> dict[str, LocalFunction]:
        assert self.stack is not None
        base = self.function_base_environ()
        functions = {}
        for spec in self.template.functions():
            deployed = self.stack.functions[spec.logical_id]
            env = lambda_environment(base, deployed, spec, self.options.region)
            functions[spec.logical_id] = LocalFunction(
                spec, deployed, env, max_sandboxes=self._sandboxes(spec.logical_id)
            )
        return functions

    def _sandboxes(self, logical_id: str) -> int:
        # A function's reserved concurrency caps its sandboxes here as on Lambda: a function that
        # relies on being the only writer (reserved concurrency 1) must not run twice at once.
        reserved = (
            self.template.resources[logical_id].get("Properties", {}).get("ReservedConcurrentExecutions")
        )
        return min(DEFAULT_SANDBOXES, int(reserved)) if isinstance(reserved, int) else DEFAULT_SANDBOXES

    def _serve(self) -> None:
        assert self.stack is not None and self.clients is not None
        specs = [f.spec for f in self.functions.values()]
        context = GatewayContext(
            stage="local",
            api_id="local",
            account_id=self.stack.account_id,
            region=self.options.region,
            binary_media_types=self.template.binary_media_types or GatewayContext.binary_media_types,
        )
        self.gateway = LocalGateway(
            routes_from(specs), self._invoker(API), context, LOOPBACK, self.options.api_port
        )
        self.gateway.start()
        self.graph = self._graph_emulator()
        sqs = self.clients.client("sqs")
        # As Lambda does, several batches of a queue are in flight at once, one per sandbox.
        self.loops = [
            SqsPoller(
                mapping, sqs, self._invoker(f"SQS {self._logical_id(mapping.queue_url)}"), self.options.region
            )
            for mapping in self.sqs_mappings()
            if mapping.function not in self.options.idle
            for _ in range(self.functions[mapping.function].max_sandboxes)
        ]
        relays = create_relays(self.s3_mappings(), sqs, self.clients.client("s3"), retry_after_s=30)
        self.loops += [
            S3EventRelay(relay, sqs, self._invoker(f"S3 {self._logical_id(relay.mapping.bucket)}"))
            for relay in relays
        ]
        self.loops += self.stream_pollers
        self.clock = LocalClock(
            self.schedule_mappings(), self._invoker("Schedule"), self.options.region, self.stack.account_id
        )
        self.loops.append(self.clock)
        self.loops.append(self.expiry_sweeper())
        self._start_saver()
        for loop in self.loops:
            loop.start()

    def expiry_sweeper(self) -> ExpirySweeper:
        """DynamoDB TTL and S3 lifecycle expiry, which the embedded AWS records but never applies."""
        assert self.stack is not None and self.clients is not None
        return ExpirySweeper(
            self.clients.client("dynamodb"),
            self.clients.client("s3"),
            tables=[r.physical_id for r in self.stack.of_type("AWS::DynamoDB::Table")],
            buckets=[r.physical_id for r in self.stack.of_type("AWS::S3::Bucket")],
        )

    def _graph_emulator(self) -> GraphEmulator | None:
        if (
            GRAPH_API_PARAMETER not in self.template.body.get("Parameters", {})
            or self.webhook_secrets is None
        ):
            return None
        assert self.gateway is not None
        if self.options.meta is not None:
            self.options.meta.add_number_source(self._connected_number)
            return self.options.meta
        webhook_url = f"{self.gateway.url}{WHATSAPP_WEBHOOK_PATH}"
        graph = GraphEmulator(
            LOOPBACK,
            self.options.graph_port,
            webhook_url,
            self.webhook_secrets.app_secret,
            GRAPH_API_VERSION,
            number_source=self._connected_number,
        )
        # The demo shop's number in its business account, and its offer, approved there (in the
        # emulated WhatsApp Manager) as a marketing template.
        graph.register_number(DEMO_PHONE_NUMBER_ID, DEMO_DISPLAY_NUMBER, DEMO_ACCESS_TOKEN, DEMO_WABA_ID)
        graph.register_template(DEMO_WABA_ID, DEMO_OFFER_TEMPLATE, "en", "MARKETING")
        graph.start()
        return graph

    def _connected_number(self, phone_number_id: str) -> tuple[str, str, str | None] | None:
        """What Meta would know of a number: the channel a shop connected, and its token."""
        owner = next(
            (f for f in self.functions.values() if "CHATSHOP_MESSAGING_TABLE" in f.environment), None
        )
        if owner is None:
            return None
        with environ.function_environ(dict(owner.environment)):
            settings = load_settings()
            channel = ChannelStore(settings).for_number(phone_number_id)
            token = TokenVault(settings).token(phone_number_id, fresh=True) if channel else None
        return (channel.display_phone_number, token, channel.waba_id) if channel and token else None

    def sqs_mappings(self) -> list[SqsMapping]:
        assert self.stack is not None and self.clients is not None
        sqs = self.clients.client("sqs")
        mappings = []
        for function in self.functions.values():
            for event in function.spec.events_of(SqsEvent):
                if not event.enabled:
                    continue
                url = self.stack.physical_id(event.queue)
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                mappings.append(
                    SqsMapping(
                        function=function.logical_id,
                        queue_url=url,
                        queue_arn=arn,
                        batch_size=event.batch_size,
                        batching_window_s=event.batching_window_s,
                        report_batch_item_failures=event.report_batch_item_failures,
                    )
                )
        return mappings

    def _open_streams(self, skip_restored: bool) -> list[StreamPoller]:
        assert self.clients is not None
        streams, sqs = self.clients.client("dynamodbstreams"), self.clients.client("sqs")
        mappings = self.stream_mappings()
        if skip_restored:
            mappings = [dataclasses.replace(m, starting_position="LATEST") for m in mappings]
        return [
            StreamPoller(
                mapping, streams, sqs, self._invoker(self._stream_trigger(mapping)), self.options.region
            )
            for mapping in mappings
        ]

    def _stream_trigger(self, mapping: StreamMapping) -> str:
        # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
        table = mapping.stream_arn.split(":table/", 1)[-1].split("/", 1)[0]
        return f"DynamoDB stream {self._logical_id(table)}"

    def stream_mappings(self) -> list[StreamMapping]:
        assert self.stack is not None and self.clients is not None
        dynamodb = self.clients.client("dynamodb")
        mappings = []
        for function in self.functions.values():
            for event in function.spec.events_of(DynamoDBEvent):
                if not event.enabled:
                    continue
                table = self.stack.physical_id(event.table)
                stream_arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
                if not stream_arn:
                    raise DeployError(f"{event.table} has no stream for {function.logical_id}.{event.name}")
                mappings.append(
                    StreamMapping(
                        function=function.logical_id,
                        function_arn=self.stack.functions[function.logical_id].arn,
                        stream_arn=stream_arn,
                        starting_position=event.starting_position,
                        batch_size=event.batch_size,
                        batching_window_s=event.batching_window_s,
                        report_batch_item_failures=event.report_batch_item_failures,
                        filter_patterns=self._filter_patterns(function.logical_id, event),
                        maximum_retry_attempts=event.maximum_retry_attempts,
                        bisect_on_error=event.bisect_on_error,
                        on_failure_queue_url=self._on_failure_queue(function.logical_id, event),
                    )
                )
        return mappings

    @staticmethod
    def _filter_patterns(function: str, event: DynamoDBEvent) -> tuple[dict, ...]:
        try:
            return tuple(parse_pattern(text) for text in event.filter_patterns)
        except FilterPatternError as exc:
            raise TemplateError(f"{function}.Events.{event.name}: FilterCriteria: {exc}") from None

    def _on_failure_queue(self, function: str, event: DynamoDBEvent) -> str | None:
        assert self.stack is not None
        if event.on_failure is None:
            return None
        destination = self.stack.resources.get(event.on_failure)
        if destination is None or destination.resource_type != "AWS::SQS::Queue":
            raise TemplateError(
                f"{function}.Events.{event.name}: only an SQS queue serves as on-failure destination locally"
            )
        return destination.physical_id

    def s3_mappings(self) -> list[S3Mapping]:
        assert self.stack is not None
        return [
            S3Mapping(
                function=function.logical_id,
                event_name=event.name,
                bucket=self.stack.physical_id(event.bucket),
                events=event.events,
                filter_rules=event.filter_rules,
            )
            for function in self.functions.values()
            for event in function.spec.events_of(S3Event)
        ]

    def schedule_mappings(self) -> list[ScheduleMapping]:
        assert self.stack is not None
        mappings = []
        for function in self.functions.values():
            for event in function.spec.events_of(ScheduleEvent):
                if not event.enabled:
                    continue
                rule = f"{function.logical_id}{event.name}"
                rule_name = self.stack.resources[rule].physical_id if rule in self.stack.resources else rule
                arn = f"arn:aws:events:{self.options.region}:{self.stack.account_id}:rule/{rule_name}"
                schedule = parse_schedule(event.expression, timezone=event.timezone)
                mappings.append(ScheduleMapping(function.logical_id, event.name, arn, schedule, event.input))
        return mappings

    def describe(self) -> dict[str, list[str]]:
        """What runs, for people: functions with their triggers, queues, streams and schedules."""
        assert self.stack is not None
        functions, queues, streams, schedules = [], [], [], []
        for function in self.functions.values():
            triggers = [f"{e.method} {e.path}" for e in function.spec.events_of(ApiEvent)]
            triggers += [f"SQS {e.queue}" for e in function.spec.events_of(SqsEvent)]
            triggers += [f"S3 {e.bucket}" for e in function.spec.events_of(S3Event)]
            triggers += [f"DynamoDB stream {e.table}" for e in function.spec.events_of(DynamoDBEvent)]
            triggers += [f"{e.expression}" for e in function.spec.events_of(ScheduleEvent)]
            functions.append(f"{function.logical_id}: {', '.join(triggers) or 'invoke only'}")
            schedules += [
                f"{e.expression} -> {function.logical_id}" + ("" if e.enabled else " (disabled)")
                for e in function.spec.events_of(ScheduleEvent)
            ]
            streams += [
                f"{e.table} -> {function.logical_id}"
                + (" (filtered)" if e.filter_patterns else "")
                + ("" if e.enabled else " (disabled)")
                for e in function.spec.events_of(DynamoDBEvent)
            ]
        consumers = {
            e.queue: f.logical_id for f in self.functions.values() for e in f.spec.events_of(SqsEvent)
        }
        on_failure = {
            e.on_failure: f.logical_id
            for f in self.functions.values()
            for e in f.spec.events_of(DynamoDBEvent)
            if e.on_failure
        }
        for queue in self.stack.of_type("AWS::SQS::Queue"):
            consumer = consumers.get(queue.logical_id)
            failed = on_failure.get(queue.logical_id)
            queues.append(
                f"{queue.logical_id}"
                + (f" -> {consumer}" if consumer else "")
                + (f" (records {failed} gave up on)" if failed else "")
            )
        return {"functions": functions, "queues": queues, "streams": streams, "schedules": schedules}

    def _write_runtime_file(self) -> None:
        assert self.clients is not None
        runtime = {
            "pid": os.getpid(),
            "api_url": self.gateway.url if self.gateway else None,
            "graph_url": self.graph.url if self.graph else None,
            "aws_url": self.clients.endpoint_url,
            "region": self.options.region,
            "stack": self.options.stack_name,
        }
        (self.options.state_dir / RUNTIME_FILE).write_text(json.dumps(runtime))


def read_demo(state_dir: Path) -> dict[str, str] | None:
    path = state_dir / "demo.json"
    return json.loads(path.read_text()) if path.is_file() else None


def running_stack(state_dir: Path) -> dict[str, Any] | None:
    """The runtime file of a `chatshop dev` still running with this state folder, if any."""
    path = state_dir / RUNTIME_FILE
    if not path.is_file():
        return None
    runtime = json.loads(path.read_text())
    try:
        os.kill(int(runtime["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return runtime
