"""The shops API's cold start and first request: what a cold container pays before its first answer.

A route group that loads with its first request (instead of at import) makes the import shorter and
that request longer; this says how much of a deferral was only moved. Every sample is a fresh
interpreter started as ``bench/import_time.py`` starts the function (its code folder as the task root,
the core layer on the path, the template's environment), with the deployed stack's resource names
and the local embedded AWS, which then answers one GET of a shop (the merchant's key checked, the
shop read, the answer shaped) through the handler, as Lambda calls it. Three figures: spawn to
imported (Python's startup included), the first request, and the sum; each with its CPU time.

    .venv/bin/python bench/shops_first_event.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _stack import running_stack  # noqa: E402
from _stats import summary  # noqa: E402
from catalog_api import Client  # noqa: E402
from import_time import REPO_ROOT, TEMPLATE, function_environment  # noqa: E402

from chatshop_local.apigw import GatewayContext, HttpRequest, Route, RouteMatch, build_proxy_event  # noqa: E402
from chatshop_local.emulator import EMULATOR_CREDENTIALS  # noqa: E402
from chatshop_local.template import load_template  # noqa: E402

FUNCTION = "ShopsFunction"

# Runs in the fresh interpreter: the import, then the event through the handler, as Lambda runs them.
# The context is the Python runtime's in shape; nothing here reads more of it than its request id.
_PROGRAM = r"""
import json, os, runpy, sys, time
module = runpy.run_path({file!r})
imported = time.monotonic(), time.process_time() * 1000

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "bench-first-event"
    log_group_name = log_stream_name = "bench"
    identity = client_context = None
    def get_remaining_time_in_millis(self):
        return 30000

event = json.loads(sys.stdin.read())
t = time.perf_counter()
answer = module["app"](event, Context())
answered = (time.perf_counter() - t) * 1000, time.process_time() * 1000
print(json.dumps({{"imported": imported, "answered": answered, "status": answer["statusCode"]}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--repo",
        type=Path,
        default=REPO_ROOT,
        help="the checkout whose function is started (e.g. an earlier commit's, for a before/after)",
    )
    args = parser.parse_args()
    root = args.repo.resolve()
    idle = frozenset(_function_ids())
    with running_stack(TEMPLATE, idle=idle) as bench:
        client = Client(bench.url)
        merchant = client.expect(201, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})
        client.token = merchant["api_key"]
        shop = client.expect(
            201, "POST", "/shops", {"name": "Bench shop", "country": "US", "currency": "USD"}
        )
        client.close()

        file, code_dir, environment = function_environment(FUNCTION, root)
        assert bench.stack.stack is not None and bench.stack.clients is not None
        deployed = bench.stack.stack.functions[FUNCTION]
        environment = {
            **environment,
            **deployed.environment,
            **EMULATOR_CREDENTIALS,
            "AWS_ENDPOINT_URL": bench.stack.clients.endpoint_url,
        }
        # Tracing would try to reach an X-Ray daemon; the deployed function's is off locally as well.
        environment.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        event = _get_shop_event(shop["id"], merchant["api_key"])

        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"python {sys.version.split()[0]} here (Lambda: python3.12)")
        spawn_ms, spawn_cpu, first_ms, first_cpu, total_ms, total_cpu = ([] for _ in range(6))
        for _ in range(args.runs):
            spawned = time.monotonic()
            output = subprocess.run(
                [sys.executable, "-c", _PROGRAM.format(file=str(file))],
                input=json.dumps(event),
                capture_output=True,
                text=True,
                cwd=code_dir,
                env=environment,
            )
            if output.returncode != 0:
                raise SystemExit(f"FAILED: the function did not answer:\n{output.stderr[-3000:]}")
            result = json.loads(output.stdout.strip().splitlines()[-1])
            if result["status"] != 200:
                raise SystemExit(f"FAILED: GET /shops/{{shop_id}} answered {result['status']}")
            (done, cpu_imported), (answered_ms, cpu_answered) = result["imported"], result["answered"]
            spawn_ms.append((done - spawned) * 1000)
            spawn_cpu.append(cpu_imported)
            first_ms.append(answered_ms)
            first_cpu.append(cpu_answered - cpu_imported)
            total_ms.append(spawn_ms[-1] + answered_ms)
            total_cpu.append(cpu_answered)
        print(f"{file.relative_to(root)} ({FUNCTION}), then GET /shops/{{shop_id}} against the local AWS")
        print(f"  spawn to imported (startup incl.)   {summary(spawn_ms)}")
        print(f"    its CPU time                      {summary(spawn_cpu)}")
        print(f"  first request (GET of a shop)       {summary(first_ms)}")
        print(f"    its CPU time                      {summary(first_cpu)}")
        print(f"  spawn to first answer               {summary(total_ms)}")
        print(f"    its CPU time                      {summary(total_cpu)}")


def _function_ids() -> list[str]:
    """Every function of the template: none is fed from a queue or a stream while this runs."""
    template = load_template(TEMPLATE)
    return [
        logical_id
        for logical_id, r in template.resources.items()
        if r.get("Type") == "AWS::Serverless::Function"
    ]


def _get_shop_event(shop_id: str, api_key: str) -> dict:
    request = HttpRequest(
        method="GET",
        path=f"/shops/{shop_id}",
        query_string="",
        headers=[("Accept", "application/json"), ("Authorization", f"Bearer {api_key}")],
        body=b"",
    )
    match = RouteMatch(Route("/shops/{shop_id}", "GET", FUNCTION), {"shop_id": shop_id})
    return build_proxy_event(request, match, GatewayContext(), "bench-first-event", datetime.now(UTC))


if __name__ == "__main__":
    main()
