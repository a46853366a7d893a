"""`chatshop dev` as a user runs it: start, ask /health, stop, restart with the same data."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest

from chatshop_local.devserver import DevServer

pytestmark = pytest.mark.e2e

DEMO_TOKEN_PARAMETER = "/chatshop/local/whatsapp/100200300400500/access-token"


def get(server: DevServer, path: str) -> tuple[int, dict]:
    with urllib.request.urlopen(server.api_url + path, timeout=10) as response:
        return response.status, json.loads(response.read())


def invoke(repo_root: Path, state_dir: Path, function: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "chatshop_local.cli",
            "invoke",
            function,
            "--state-dir",
            str(state_dir),
            *extra,
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def line_value(output: str, label: str) -> str:
    return next(
        line.split(":", 1)[1].strip() for line in output.splitlines() if line.strip().startswith(label)
    )


def stored_partition_keys(aws_port: int, table_logical_id: str) -> set[str]:
    endpoint = f"http://127.0.0.1:{aws_port}"
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    table = cloudformation.describe_stack_resource(StackName="chatshop", LogicalResourceId=table_logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    items = dynamodb.scan(TableName=table["StackResourceDetail"]["PhysicalResourceId"])["Items"]
    return {item["pk"]["S"] for item in items}


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_dev_starts_answers_health_keeps_data_and_stops_cleanly(repo_root, tmp_path):
    state_dir = tmp_path / "state"

    # Given a clean state folder, when chatshop dev starts
    first = DevServer(repo_root, state_dir)
    banner = first.wait_ready()
    # Then it prints where everything is and the demo merchant's key
    assert f"http://127.0.0.1:{first.api_port}" in line_value(banner, "API:")
    assert f"http://127.0.0.1:{first.aws_port}" in line_value(banner, "AWS emulator:")
    api_key = line_value(banner, "Demo API key:")
    assert api_key.startswith("csk_")
    assert "ShopsFunction: GET /health" in banner
    # And /health answers
    status, health = get(first, "/health")
    assert status == 200
    assert health == {"status": "ok", "region": "us-east-1", "version": health["version"]}
    assert health["version"]

    # And `chatshop invoke` attaches to it and runs a function once with a generated event
    invoked = invoke(repo_root, state_dir, "ShopsFunction")
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(json.loads(invoked.stdout)["body"])["status"] == "ok"

    # When it is interrupted, it stops everything it started
    output = first.interrupt()
    assert first.process.returncode == 0, output
    assert port_is_free(first.api_port) and port_is_free(first.aws_port)

    # When it starts again on the same state folder, the demo merchant is still there, not seeded anew
    second = DevServer(repo_root, state_dir)
    banner = second.wait_ready()
    assert line_value(banner, "Demo API key:") == api_key
    assert "restored" in line_value(banner, "State:")
    merchant_id = line_value(banner, "Demo merchant:")
    assert f"MERCHANT#{merchant_id}" in stored_partition_keys(second.aws_port, "ShopsTable")
    # And the demo shop's WhatsApp token, an encrypted parameter, came back with the data
    ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{second.aws_port}", region_name="us-east-1")
    token = ssm.get_parameter(Name=DEMO_TOKEN_PARAMETER, WithDecryption=True)["Parameter"]
    assert token["Type"] == "SecureString" and token["Value"]
    assert get(second, "/health")[0] == 200
    assert second.interrupt().count("Traceback") == 0
    assert second.process.returncode == 0


def test_invoke_without_a_running_stack_uses_the_given_event(repo_root, tmp_path):
    # Given an API Gateway event for /health in a file, and no chatshop dev running
    event = {
        "resource": "/health",
        "path": "/health",
        "httpMethod": "GET",
        "headers": None,
        "multiValueHeaders": None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "requestId": "given-request"},
        "body": None,
        "isBase64Encoded": False,
    }
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    # When the function is invoked with it
    invoked = invoke(repo_root, tmp_path / "state", "ShopsFunction", "--event", str(event_file))
    # Then the function's own result is printed
    assert invoked.returncode == 0, invoked.stderr
    result = json.loads(invoked.stdout)
    assert result["statusCode"] == 200
    assert result["headers"]["X-Correlation-Id"] == "given-request"


def test_invoke_of_an_unknown_function_names_the_known_ones(repo_root, tmp_path):
    invoked = invoke(repo_root, tmp_path / "state", "NoSuchFunction")
    assert invoked.returncode == 2
    assert "no function 'NoSuchFunction'" in invoked.stderr and "ShopsFunction" in invoked.stderr
    assert "Traceback" not in invoked.stderr
