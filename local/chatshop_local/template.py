"""Reads template.yaml into what the local runtime needs: functions, their code and their events.

The template is the only declaration of resources. This module reads it; it declares nothing.
Values that need the deployed stack (names, ARNs, environment variables) are read back from the
embedded AWS after deployment (see ``deploy``), so they are resolved exactly as CloudFormation did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

SERVERLESS_FUNCTION = "AWS::Serverless::Function"


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class ApiEvent:
    name: str
    path: str
    method: str


@dataclass(frozen=True)
class SqsEvent:
    name: str
    queue: str  # logical id of the queue
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class ScheduleEvent:
    name: str
    expression: str
    input: str | None
    enabled: bool
    timezone: str


@dataclass(frozen=True)
class S3Event:
    name: str
    bucket: str  # logical id of the bucket
    events: tuple[str, ...]
    filter_rules: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DynamoDBEvent:
    name: str
    table: str  # logical id of the table whose stream it reads
    starting_position: str  # TRIM_HORIZON or LATEST
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool
    enabled: bool
    filter_patterns: tuple[str, ...]  # FilterCriteria patterns, as the JSON text of the template
    maximum_retry_attempts: int  # -1: until the record expires from the stream
    bisect_on_error: bool
    on_failure: str | None  # logical id of the on-failure destination queue


Event = ApiEvent | SqsEvent | ScheduleEvent | S3Event | DynamoDBEvent


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    events: tuple[Event, ...] = field(default=())

    def events_of(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]


@dataclass(frozen=True)
class Template:
    path: Path
    body: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources", {})

    @property
    def binary_media_types(self) -> tuple[str, ...]:
        """The REST API's binary media types, written as API Gateway wants them (``~1`` for ``/``)."""
        types = self.body.get("Globals", {}).get("Api", {}).get("BinaryMediaTypes", [])
        return tuple(str(t).replace("~1", "/") for t in types)

    def in_region(self, region: str, parameters: dict[str, str] | None = None) -> Template:
        """The template as a stack in ``region`` sees it: resources its Conditions switch off there
        (a feature not live in any of the region's countries) left out, every other one kept whole."""
        from .conditions import deployed_resources

        deployed = deployed_resources(self.body, {**(parameters or {}), "AWS::Region": region})
        resources = {lid: res for lid, res in self.resources.items() if lid in deployed}
        return Template(self.path, {**self.body, "Resources": resources})

    def logical_ids_of(self, resource_type: str) -> list[str]:
        return [lid for lid, res in self.resources.items() if res.get("Type") == resource_type]

    def functions(self) -> list[FunctionSpec]:
        return [self._function(lid) for lid in self.logical_ids_of(SERVERLESS_FUNCTION)]

    def function(self, logical_id: str) -> FunctionSpec:
        if self.resources.get(logical_id, {}).get("Type") != SERVERLESS_FUNCTION:
            known = ", ".join(self.logical_ids_of(SERVERLESS_FUNCTION))
            raise TemplateError(f"no function {logical_id!r} in {self.path.name} (functions: {known})")
        return self._function(logical_id)

    def _function_globals(self) -> dict[str, Any]:
        return self.body.get("Globals", {}).get("Function", {})

    def _function(self, logical_id: str) -> FunctionSpec:
        props = {**self._function_globals(), **self.resources[logical_id].get("Properties", {})}
        if props.get("PackageType") == "Image":
            code_uri = self.resources[logical_id].get("Metadata", {}).get("DockerContext")
            command = props.get("ImageConfig", {}).get("Command") or []
            handler = command[0] if command else None
        else:
            code_uri, handler = props.get("CodeUri"), props.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{logical_id}: a local CodeUri and a Handler are needed to run it locally")
        events = tuple(
            _parse_event(logical_id, name, event) for name, event in props.get("Events", {}).items()
        )
        return FunctionSpec(logical_id, (self.root / code_uri).resolve(), handler, events)


def load_template(path: Path) -> Template:
    try:
        body = yaml_parse(path.read_text())
    except FileNotFoundError as exc:
        raise TemplateError(f"template not found: {path}") from exc
    if not isinstance(body, dict) or "Resources" not in body:
        raise TemplateError(f"{path} has no Resources")
    return Template(path.resolve(), body)


def referenced_logical_id(value: Any) -> str:
    """The logical id behind ``!Ref X``, ``!GetAtt X.Arn`` or ``!GetAtt [X, Arn]``."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
    raise TemplateError(f"expected a !Ref or !GetAtt to a resource of this template, got {value!r}")


def _parse_event(function: str, name: str, event: dict[str, Any]) -> Event:
    kind, props = event.get("Type"), event.get("Properties", {})
    where = f"{function}.Events.{name}"
    if kind == "Api":
        return ApiEvent(name, props["Path"], str(props["Method"]).upper())
    if kind == "SQS":
        return SqsEvent(
            name=name,
            queue=referenced_logical_id(props["Queue"]),
            batch_size=int(props.get("BatchSize", 10)),
            batching_window_s=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            enabled=bool(props.get("Enabled", True)),
        )
    if kind in ("Schedule", "ScheduleV2"):
        expression = props.get("Schedule") or props.get("ScheduleExpression")
        enabled = props.get("Enabled", props.get("State", "ENABLED") in ("ENABLED", True))
        return ScheduleEvent(
            name=name,
            expression=str(expression),
            input=props.get("Input"),
            enabled=bool(enabled),
            timezone=str(props.get("ScheduleExpressionTimezone", "UTC")),
        )
    if kind == "S3":
        events = props["Events"]
        rules = props.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        return S3Event(
            name=name,
            bucket=referenced_logical_id(props["Bucket"]),
            events=tuple([events] if isinstance(events, str) else events),
            filter_rules=tuple((rule["Name"], rule["Value"]) for rule in rules),
        )
    if kind == "DynamoDB":
        return _dynamodb_event(where, name, props)
    raise TemplateError(f"{where}: event type {kind!r} does not run locally yet")


def _dynamodb_event(where: str, name: str, props: dict[str, Any]) -> DynamoDBEvent:
    position = str(props.get("StartingPosition", ""))
    if position not in ("TRIM_HORIZON", "LATEST"):
        raise TemplateError(f"{where}: StartingPosition {position!r} does not run locally")
    patterns = []
    for entry in props.get("FilterCriteria", {}).get("Filters", []):
        pattern = entry.get("Pattern")
        try:
            json.loads(pattern)
        except (TypeError, ValueError) as exc:
            raise TemplateError(f"{where}: a FilterCriteria pattern is not JSON: {pattern!r}") from exc
        patterns.append(pattern)
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return DynamoDBEvent(
        name=name,
        table=referenced_logical_id(props["Stream"]),
        starting_position=position,
        batch_size=int(props.get("BatchSize", 100)),
        batching_window_s=int(props.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        enabled=bool(props.get("Enabled", True)),
        filter_patterns=tuple(patterns),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        on_failure=referenced_logical_id(destination) if destination is not None else None,
    )
