"""`chatshop dev` as a user runs it: start, ask /health, read its lines and logs, stop or be killed, restart
with the same data."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
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


def request(
    server: DevServer, method: str, path: str, api_key: str, body: dict | None = None
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    call = urllib.request.Request(server.api_url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def logs(repo_root: Path, state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chatshop_local.cli", "logs", *args, "--state-dir", str(state_dir)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dev_prints_a_line_per_request_and_keeps_function_logs_in_files(repo_root, tmp_path):
    state_dir = tmp_path / "state"
    server = DevServer(repo_root, state_dir)
    try:
        banner = server.wait_ready()
        assert "Function logs:" in banner
        # When a client asks for /health with a token in the query
        with urllib.request.urlopen(server.api_url + "/health?token=abc123", timeout=10) as response:
            assert response.status == 200
        # Then the terminal has one line for it: method, path without the query, status, time
        line = server.wait_for_line(lambda text: " /health  200  " in text, timeout=30)
        assert line is not None and "GET" in line and line.rstrip().endswith("ms"), server.text
        assert "abc123" not in server.text
        # And no function's JSON log line reaches the terminal
        assert not [text for text in server.output if text.lstrip().startswith("{")], server.text
        # And the function's log file has its invocation, which `chatshop logs` prints
        shown = logs(repo_root, state_dir, "ShopsFunction")
        assert shown.returncode == 0, shown.stderr
        assert "REPORT" in shown.stdout and "trigger=Api" in shown.stdout and "outcome=ok" in shown.stdout
        raw = logs(repo_root, state_dir, "ShopsFunction", "--json")
        reports = [json.loads(text) for text in raw.stdout.splitlines() if '"REPORT"' in text]
        assert reports and reports[-1]["trigger"] == "Api" and reports[-1]["duration_ms"] >= 0
        # And an unknown function is named with the known ones
        unknown = logs(repo_root, state_dir, "NoSuchFunction")
        assert unknown.returncode == 2
        assert "no function 'NoSuchFunction'" in unknown.stderr and "ShopsFunction" in unknown.stderr
    finally:
        server.interrupt()


def test_data_written_before_a_kill_comes_back_on_the_next_start(repo_root, tmp_path):
    state_dir = tmp_path / "state"
    # Given chatshop dev saving its state every second while it runs
    first = DevServer(repo_root, state_dir, "--save-every", "1")
    banner = first.wait_ready()
    api_key, shop_id = line_value(banner, "Demo API key:"), line_value(banner, "Demo shop:")
    # When a merchant adds a product
    status, product = request(
        first,
        "POST",
        f"/shops/{shop_id}/products",
        api_key,
        {
            "retailer_id": "KILL-TEST-1",
            "title": "Survives a kill",
            "price": {"amount": 100, "currency": "USD"},
        },
    )
    assert status == 201, product
    # And the next periodic save has it (the snapshot is written beside the last one, then swapped in)
    snapshot = state_dir / "snapshot" / "dynamodb" / "ShopsTable.jsonl"
    deadline = time.monotonic() + 60
    while not (snapshot.is_file() and "KILL-TEST-1" in snapshot.read_text()):
        assert time.monotonic() < deadline, "no periodic save within 60 s"
        time.sleep(0.2)
    # And then the process is killed, with no chance to save on the way out
    first.kill()
    assert first.process.returncode == -signal.SIGKILL

    # Then the next start restores the product
    second = DevServer(repo_root, state_dir)
    try:
        banner = second.wait_ready()
        assert "restored" in line_value(banner, "State:")
        status, again = request(second, "GET", f"/shops/{shop_id}/products/{product['id']}", api_key)
        assert status == 200 and again["title"] == "Survives a kill"
    finally:
        second.interrupt()
