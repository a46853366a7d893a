"""Deploys template.yaml to the embedded AWS the way SAM would: translate, package, create the stack.

SAM is translated to CloudFormation offline by aws-sam-translator, local code folders are zipped into
an artifacts bucket, and the emulator's CloudFormation creates every resource. Only what the
emulator must not run itself is left out: event source mappings, bucket-to-Lambda notifications and
API Gateway deployments, which the local runtime serves instead (the emulator would otherwise try to
run Lambda code in Docker). Conditions that depend only on parameters are decided first (see
``conditions``), as CloudFormation decides them. Container image functions run from their Docker
context locally; the emulator is given a placeholder image URI for them.
"""

from __future__ import annotations

import copy
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import (
    Translator,
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

from .cfn_gaps import apply_skipped_properties
from .conditions import resolve_conditions
from .template import Template

ARTIFACTS_BUCKET = "chatshop-local-artifacts"
_CODE_KEYS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
_SERVED_LOCALLY = {
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Stage",
    "AWS::Lambda::EventSourceMapping",
}
_SKIPPED_DIRS = {"__pycache__", ".chalice", ".pytest_cache"}


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeployedResource:
    logical_id: str
    resource_type: str
    physical_id: str


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]


@dataclass(frozen=True)
class DeployedStack:
    name: str
    region: str
    account_id: str
    resources: dict[str, DeployedResource]
    functions: dict[str, DeployedFunction]
    outputs: dict[str, str]

    def physical_id(self, logical_id: str) -> str:
        try:
            return self.resources[logical_id].physical_id
        except KeyError:
            raise DeployError(f"resource {logical_id} is not in stack {self.name}") from None

    def of_type(self, resource_type: str) -> list[DeployedResource]:
        return [res for res in self.resources.values() if res.resource_type == resource_type]


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
            for name in sorted(files):
                path = Path(root) / name
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs by name; offline we have none to offer."""

    def load(self) -> dict[str, str]:
        return {}


def package(template: Template, s3_client: Any, region: str = "us-east-1") -> dict[str, Any]:
    """A copy of the SAM template whose local code folders point at zips in the artifacts bucket."""
    body = copy.deepcopy(template.body)
    # S3 wants a bucket's region named, except for its first region.
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3_client.create_bucket(Bucket=ARTIFACTS_BUCKET, **where)
    function_globals = body.get("Globals", {}).get("Function", {})
    for logical_id, resource in body["Resources"].items():
        key = _CODE_KEYS.get(resource.get("Type"))
        if key is None:
            continue
        props = resource.setdefault("Properties", {})
        if props.get("PackageType") == "Image":
            # The image is built for AWS only; locally the code runs from its Docker context.
            props["ImageUri"] = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{logical_id.lower()}:local"
            continue
        local_path = props.get(key, function_globals.get(key) if key == "CodeUri" else None)
        if not isinstance(local_path, str) or local_path.startswith("s3://"):
            continue
        object_key = f"{logical_id}.zip"
        s3_client.put_object(
            Bucket=ARTIFACTS_BUCKET, Key=object_key, Body=zip_folder(template.root / local_path)
        )
        props[key] = f"s3://{ARTIFACTS_BUCKET}/{object_key}"
    return body


def translate(sam_body: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    """SAM to CloudFormation, offline; the region is given, not looked up from the environment."""
    # The translator rewrites the values it is given in place (to its own str type): give it a copy,
    # so the values passed on to CloudFormation stay plain strings.
    values = dict(parameters)
    to_py27_compatible_template(sam_body, values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    cfn = translator.translate(
        sam_body, parameter_values=values, get_managed_policy_map=_NoManagedPolicies().load
    )
    return undo_mark_unicode_str_in_template(cfn)


def to_cloudformation(
    sam_body: dict[str, Any], parameters: dict[str, str], stack_name: str, region: str
) -> dict[str, Any]:
    cfn = resolve_conditions(translate(sam_body, parameters, region), {**parameters, "AWS::Region": region})
    resources = cfn["Resources"]
    dropped = {lid for lid, res in resources.items() if res["Type"] in _SERVED_LOCALLY}
    for logical_id in dropped:
        del resources[logical_id]
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            props.setdefault("Name", f"{stack_name}-{logical_id}")
        if resource["Type"] == "AWS::S3::Bucket":
            notifications = props.get("NotificationConfiguration", {})
            notifications.pop("LambdaConfigurations", None)
            if not notifications:
                props.pop("NotificationConfiguration", None)
        depends = resource.get("DependsOn")
        if depends:
            remaining = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in dropped]
            resource["DependsOn"] = remaining
            if not remaining:
                del resource["DependsOn"]
    outputs = cfn.get("Outputs", {})
    cfn["Outputs"] = {name: out for name, out in outputs.items() if not _references_any(out, dropped)}
    return cfn


def _references_any(value: Any, logical_ids: set[str]) -> bool:
    text = json.dumps(value)
    return any(f'"{lid}"' in text or f"${{{lid}" in text or f'"{lid}.' in text for lid in logical_ids)


def create_stack(
    cfn_client: Any, stack_name: str, body: dict[str, Any], parameters: dict[str, str], timeout: float = 60
) -> None:
    cfn_client.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack = cfn_client.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if not status.endswith("IN_PROGRESS"):
            raise DeployError(
                f"stack {stack_name} ended in {status}: {_failure_reasons(cfn_client, stack_name)}"
            )
        time.sleep(0.05)
    raise DeployError(f"stack {stack_name} was not created within {timeout:.0f}s")


def _failure_reasons(cfn_client: Any, stack_name: str) -> str:
    events = cfn_client.describe_stack_events(StackName=stack_name)["StackEvents"]
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED")
    ]
    return "; ".join(reasons) or "no reason given"


def read_stack(clients: Any, stack_name: str, region: str) -> DeployedStack:
    cfn, lam, sts = clients.client("cloudformation"), clients.client("lambda"), clients.client("sts")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    resources = {
        r["LogicalResourceId"]: DeployedResource(
            r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId") or ""
        )
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    }
    functions = {}
    for res in resources.values():
        if res.resource_type != "AWS::Lambda::Function":
            continue
        conf = lam.get_function_configuration(FunctionName=res.physical_id)
        functions[res.logical_id] = DeployedFunction(
            logical_id=res.logical_id,
            name=conf["FunctionName"],
            arn=conf["FunctionArn"],
            handler=conf.get("Handler", ""),
            timeout_s=int(conf.get("Timeout", 3)),
            memory_mb=int(conf.get("MemorySize", 128)),
            # Lambda's variables are strings; the emulator keeps a Number parameter's value as given.
            environment={k: str(v) for k, v in conf.get("Environment", {}).get("Variables", {}).items()},
        )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    account_id = sts.get_caller_identity()["Account"]
    return DeployedStack(stack_name, region, account_id, resources, functions, outputs)


def deploy(
    template: Template, clients: Any, stack_name: str, region: str, parameters: dict[str, str]
) -> DeployedStack:
    sam_body = package(template, clients.client("s3"), region)
    cfn_body = to_cloudformation(sam_body, parameters, stack_name, region)
    create_stack(clients.client("cloudformation"), stack_name, cfn_body, parameters)
    stack = read_stack(clients, stack_name, region)
    apply_skipped_properties(cfn_body, stack, clients, parameters)
    return stack
