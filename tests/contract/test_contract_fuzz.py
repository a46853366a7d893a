"""The API contract, fuzzed: schemathesis against a fresh `chatshop dev`, with every check and every
phase (stateful included), on every route of the served document, which must be every Api route of
every function in template.yaml, so that nothing escapes the fuzzer.

A longer run with more examples: `make fuzz`.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from chatshop_local.devserver import DevServer
from chatshop_local.template import ApiEvent, load_template
from tests.contract.fuzz import REPO_ROOT, fuzz_dev_stack

pytestmark = pytest.mark.e2e

SEED = 20261201
MAX_EXAMPLES = 10


def template_routes() -> set[tuple[str, str]]:
    template = load_template(REPO_ROOT / "template.yaml")
    return {(e.path, e.method) for spec in template.functions() for e in spec.events_of(ApiEvent)}


def test_the_served_document_has_every_api_route_of_the_template(tmp_path: Path):
    server = DevServer(REPO_ROOT, tmp_path / "state", "--no-seed")
    try:
        server.wait_ready()
        with urllib.request.urlopen(f"{server.api_url}/openapi.json", timeout=30) as response:
            document = json.loads(response.read())
    finally:
        server.kill()
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert documented == template_routes()


@pytest.mark.timeout(600)
def test_the_stack_keeps_the_document_under_fuzzing(tmp_path: Path):
    # When
    run = fuzz_dev_stack(tmp_path, MAX_EXAMPLES, SEED)

    # Then
    print(run.output)
    summary = run.output[run.output.rfind("SUMMARY") :]
    assert "Tested: " in summary, run.output[-4000:]
    assert "Stateful" in summary
    assert run.returncode == 0, run.output[-12000:]
