"""Rules every resource of template.yaml keeps, checked on the template itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from chatshop_local.policies import policy_violations
from chatshop_local.template import ApiEvent, FunctionSpec, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(REPO_ROOT / "template.yaml")


def test_template_keeps_every_data_safety_rule():
    assert policy_violations(TEMPLATE.body) == []


def test_data_safety_rules_name_each_breach():
    # Given a template that breaks each rule once
    careless = yaml_parse(
        """
        Resources:
          Orphan: {Type: AWS::SQS::Queue}
          Guarded:
            Type: AWS::SQS::Queue
            Properties:
              RedrivePolicy: {deadLetterTargetArn: !GetAtt Graveyard.Arn, maxReceiveCount: 3}
          Graveyard: {Type: AWS::SQS::Queue}
          Forgetful: {Type: AWS::DynamoDB::Table, Properties: {}}
          Leaky:
            Type: AWS::S3::Bucket
            Properties:
              PublicAccessBlockConfiguration: {BlockPublicAcls: true}
        """
    )
    # Then each breach, and only those, is reported
    assert policy_violations(careless) == [
        "Orphan: a queue needs a RedrivePolicy to a dead-letter queue",
        "Forgetful: a table needs point-in-time recovery",
        "Leaky: a bucket must block every kind of public access",
        "Leaky: a bucket must encrypt its objects",
    ]


def test_functions_run_python_3_12_on_arm64_with_the_core_layer():
    function_globals = TEMPLATE.body["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Architectures"] == ["arm64"]
    assert {"Ref": "CoreLayer"} in function_globals["Layers"]


def load_app(spec: FunctionSpec):
    module_name, _, attribute = spec.handler.rpartition(".")
    path = spec.code_dir / f"{module_name}.py"
    loader = importlib.util.spec_from_file_location(f"_routes_{spec.logical_id}", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return getattr(module, attribute)


@pytest.mark.parametrize(
    "spec", [s for s in TEMPLATE.functions() if s.handler.endswith(".app")], ids=lambda s: s.logical_id
)
def test_chalice_routes_and_template_api_events_agree(spec):
    # Chalice dispatches on the resource path API Gateway sends, so every route must be an Api event
    # of the template with the same path and method, and the template must route nothing else there.
    app = load_app(spec)
    chalice_routes = {(path, method) for path, entries in app.routes.items() for method in entries}
    template_routes = {(event.path, event.method) for event in spec.events_of(ApiEvent)}
    assert chalice_routes == template_routes
