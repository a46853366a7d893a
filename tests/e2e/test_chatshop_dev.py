"""`chatshop dev` as a user runs it: start, ask /health, stop, restart with the same data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chatshop_local.emulator import free_port

pytestmark = pytest.mark.e2e


class DevProcess:
    def __init__(self, repo_root: Path, state_dir: Path, *extra: str) -> None:
        self.api_port, self.aws_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatshop_local.cli",
                "dev",
                "--port",
                str(self.api_port),
                "--aws-port",
                str(self.aws_port),
                "--graph-port",
                str(free_port()),
                "--state-dir",
                str(state_dir),
                *extra,
            ],
            cwd=repo_root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.output: list[str] = []

    def wait_ready(self, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("Press Ctrl-C to stop."):
                return "".join(self.output)
        raise AssertionError("chatshop dev did not become ready:\n" + "".join(self.output))

    def get(self, path: str) -> tuple[int, dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}{path}", timeout=10) as response:
            return response.status, json.loads(response.read())

    def interrupt(self, timeout: float = 30) -> str:
        self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=timeout)
        return "".join(self.output) + rest


def line_value(output: str, label: str) -> str:
    return next(
        line.split(":", 1)[1].strip() for line in output.splitlines() if line.strip().startswith(label)
    )


def stored_partition_keys(aws_port: int, table_logical_id: str) -> set[str]:
    import boto3

    endpoint = f"http://127.0.0.1:{aws_port}"
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    table = cloudformation.describe_stack_resource(StackName="chatshop", LogicalResourceId=table_logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    items = dynamodb.scan(TableName=table["StackResourceDetail"]["PhysicalResourceId"])["Items"]
    return {item["pk"]["S"] for item in items}


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_dev_starts_answers_health_keeps_data_and_stops_cleanly(repo_root, tmp_path):
    state_dir = tmp_path / "state"

    # Given a clean state folder, when chatshop dev starts
    first = DevProcess(repo_root, state_dir)
    banner = first.wait_ready()
    # Then it prints where everything is and the demo merchant's key
    assert f"http://127.0.0.1:{first.api_port}" in line_value(banner, "API:")
    assert f"http://127.0.0.1:{first.aws_port}" in line_value(banner, "AWS emulator:")
    api_key = line_value(banner, "Demo API key:")
    assert api_key.startswith("csk_")
    assert "ShopsFunction: GET /health" in banner
    # And /health answers
    status, health = first.get("/health")
    assert status == 200
    assert health == {"status": "ok", "region": "us-east-1", "version": health["version"]}
    assert health["version"]

    # When it is interrupted, it stops everything it started
    output = first.interrupt()
    assert first.process.returncode == 0, output
    assert port_is_free(first.api_port) and port_is_free(first.aws_port)

    # When it starts again on the same state folder, the demo merchant is still there, not seeded anew
    second = DevProcess(repo_root, state_dir)
    banner = second.wait_ready()
    assert line_value(banner, "Demo API key:") == api_key
    assert "restored" in line_value(banner, "State:")
    merchant_id = line_value(banner, "Demo merchant:")
    assert f"MERCHANT#{merchant_id}" in stored_partition_keys(second.aws_port, "ShopsTable")
    assert second.get("/health")[0] == 200
    assert second.interrupt().count("Traceback") == 0
    assert second.process.returncode == 0
