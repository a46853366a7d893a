"""Cold import time: the core layer's modules, and each light function as Lambda starts it.

Every sample is a fresh interpreter. A function is started as Lambda starts it: its code folder is
the task root (the working directory, first on ``sys.path``), the core layer is on ``sys.path`` as
``/opt/python`` is, and its environment is the template's (Globals and its own variables; a
reference to another resource becomes a placeholder) with Lambda's reserved variables, so the
tracer sees itself inside Lambda as it would there. Two figures per function: the import of its
handler file alone, and the wall time from spawning the interpreter until that import is done
(Python's own startup included). Lambda runs python3.12; this machine runs the interpreter of
the virtualenv, so the figures are this machine's, under its Python.

Lambda's interpreter has the function's dependencies on its path (the layer's folder) and no
editable installs, so the spawned interpreter does not run the virtualenv's ``.pth`` hooks (the
local runtime's editable finder and setuptools' distutils shim, over half of Python's startup here):
it starts with ``-S``, imports ``site`` as Lambda's does, and finds the virtualenv's packages on
``PYTHONPATH`` after the layer. ``--venv-site`` runs the hooks, as the figures before this did.

A worker makes its stores and clients with its first unit (the handler's cached factory), so for
the inbound worker and the sender that is timed too, in CPU after the import (no request is sent):
a client made there that the unit may not need is paid by every cold start.

A deferred import is paid by the first event that needs it, so the shops function's cold start is
also timed to the end of its first event (a merchant's GET of a shop, against the embedded AWS of a
local stack: its DynamoDB client made, its reads, the answer): the figure a deferral must lower,
not only move.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _stats import summary  # noqa: E402

from chatshop_local.apigw import GatewayContext, HttpRequest, build_proxy_event  # noqa: E402
from chatshop_local.gateway import routes_from  # noqa: E402
from chatshop_local.template import load_template  # noqa: E402

MODULES = [
    "chatshop",
    "chatshop.platform.errors",
    "chatshop.platform.config",
    "chatshop.platform.observability",
    "chatshop.platform.aws",
    "chatshop.platform.rollout",
    "chatshop.platform.http",
    "chatshop.shops.merchants",
]

# The zip functions that answer a request or a message and load no model: the cold starts a client feels.
LIGHT_FUNCTIONS = ["WebhookFunction", "InboundFunction", "SenderFunction", "ShopsFunction"]
TARGET_MS = 300.0

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
LAYER = REPO_ROOT / "layers" / "core" / "python"
REGION = "us-east-1"
# The spawned interpreter, as Lambda's (see above) or this virtualenv's with its site hooks.
LAMBDA_PYTHON = (sys.executable, "-S", "-c", "import site; {program}")
VENV_PYTHON = (sys.executable, "-c", "{program}")
PARAMETERS = {"Stage": "dev", "AWS::StackName": "chatshop-dev", "AWS::AccountId": "123456789012"}

_MEASURE_MODULE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({target!r}); "
    "print((time.perf_counter() - t) * 1000)"
)
# time.monotonic is one clock for every process on Linux: the parent reads it before spawning.
# time.process_time is the CPU the process has used since it was spawned: on a busy machine the wall
# time grows with the load, the CPU time much less, so it is the figure to compare before and after.
_MEASURE_FILE = (
    "import time, runpy; t = time.perf_counter(); runpy.run_path({target!r}); "
    "print((time.perf_counter() - t) * 1000, time.monotonic(), time.process_time() * 1000)"
)
# The import as above, then one API Gateway event (argv[1]) through the handler, timed apart.
_MEASURE_FIRST_EVENT = """
import json, runpy, sys, time, types
t = time.perf_counter()
module = runpy.run_path({target!r})
imported, done, cpu = (time.perf_counter() - t) * 1000, time.monotonic(), time.process_time() * 1000
context = types.SimpleNamespace(
    function_name="ShopsFunction", function_version="$LATEST", memory_limit_in_mb="512",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:ShopsFunction",
    aws_request_id="first-event", get_remaining_time_in_millis=lambda: 30_000,
)
t = time.perf_counter()
answer = module[{handler!r}](json.loads(sys.argv[1]), context)
event_ms, event_cpu = (time.perf_counter() - t) * 1000, time.process_time() * 1000 - cpu
print(answer["statusCode"], imported, done, cpu, event_ms, event_cpu)
"""
_MEASURE_BARE = "import time; print(0, time.monotonic(), time.process_time() * 1000)"
# The import, then what the first unit makes before handling it: the CPU of the factory alone, in ms.
_MEASURE_FACTORY = (
    "import time, runpy; module = runpy.run_path({target!r}); cpu = time.process_time(); "
    "module[{factory!r}](); print((time.process_time() - cpu) * 1000)"
)
# The workers' cached factories of their first unit (their stores and clients).
FIRST_UNIT_FACTORIES = {"InboundFunction": "worker", "SenderFunction": "sender"}


def command(python: tuple[str, ...], program: str) -> list[str]:
    """The command line running ``program`` in a fresh interpreter started as ``python`` says."""
    return [part.replace("{program}", program) for part in python]


def last_line(
    program: str,
    target: str,
    cwd: Path,
    environment: dict[str, str] | None = None,
    python: tuple[str, ...] = VENV_PYTHON,
) -> str:
    """The last line ``program`` (formatted with ``target``) prints in a fresh interpreter."""
    output = subprocess.run(
        command(python, program.format(target=target)),
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env=environment,
    )
    return output.stdout.strip().splitlines()[-1]


def import_ms(program: str, target: str) -> float:
    return float(last_line(program, target, REPO_ROOT))


def function_environment(logical_id: str, root: Path = REPO_ROOT) -> tuple[Path, Path, dict[str, str]]:
    """The handler file, the code folder and the environment of a template function of ``root``."""
    template = load_template(root / "template.yaml")
    spec = template.function(logical_id)
    props = template.resources[logical_id].get("Properties", {})
    variables = {
        **template.body.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
        **props.get("Environment", {}).get("Variables", {}),
    }
    environment = {
        # Only what the interpreter needs from this process: nothing of the local runtime's.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        # The layer's packages: ours, then the dependencies (this virtualenv's).
        "PYTHONPATH": os.pathsep.join(
            [str(spec.code_dir), str(root / LAYER.relative_to(REPO_ROOT)), sysconfig.get_paths()["purelib"]]
        ),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 512)),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    defaults = {
        name: str(spec_["Default"])
        for name, spec_ in template.body.get("Parameters", {}).items()
        if "Default" in spec_
    }
    environment.update({name: _resolved(name, value, defaults) for name, value in variables.items()})
    module = spec.handler.rpartition(".")[0]
    return spec.code_dir / f"{module.replace('.', '/')}.py", spec.code_dir, environment


def _resolved(name: str, value: object, defaults: dict[str, str]) -> str:
    """A variable's value with the stack's parameters filled in (the template's defaults for those the
    benchmark does not set); another resource's name a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("Ref") in PARAMETERS:
        return PARAMETERS[value["Ref"]]
    if isinstance(value, dict) and value.get("Ref") in defaults:
        return defaults[value["Ref"]]
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: PARAMETERS.get(m.group(1), "bench"), value["Fn::Sub"])
    return f"bench-{name.lower().replace('_', '-')}"


def cold_start_ms(
    program: str, target: str, cwd: Path, environment: dict[str, str], python: tuple[str, ...] = LAMBDA_PYTHON
) -> tuple[float, float, float]:
    """(the import alone, spawn to import done, CPU spawn to import done) in ms, in a fresh interpreter."""
    spawned = time.monotonic()
    imported_ms, done, cpu_ms = last_line(program, target, cwd, environment, python).split()
    return float(imported_ms), (float(done) - spawned) * 1000, float(cpu_ms)


def first_unit_cpu_ms(file: Path, code_dir: Path, environment: dict[str, str], factory: str) -> float:
    """The CPU a worker's first unit spends making its stores and clients, in a fresh interpreter."""
    program = _MEASURE_FACTORY.replace("{factory!r}", repr(factory))
    return float(last_line(program, str(file), code_dir, environment, LAMBDA_PYTHON))


def first_event_samples(
    runs: int, root: Path, python: tuple[str, ...] = LAMBDA_PYTHON
) -> list[tuple[float, float, float, float]]:
    """(spawn to imported, its CPU, the first event alone, its CPU) in ms, for ``runs`` fresh shops
    functions each answering a merchant's GET of their shop, against one local stack's AWS."""
    from _stack import running_stack

    file, code_dir, environment = function_environment("ShopsFunction", root)
    spec = load_template(root / "template.yaml").function("ShopsFunction")
    handler = spec.handler.rpartition(".")[2]
    # Nothing but the shops function is needed: no queue or stream of the stack is polled meanwhile.
    everything = frozenset(f.logical_id for f in load_template(root / "template.yaml").functions())
    with running_stack(root / "template.yaml", idle=everything) as bench:
        stack = bench.stack
        deployed = stack.functions["ShopsFunction"].environment
        # The deployed function's resources and the emulator's endpoint and credentials; the rest as
        # Lambda starts it (above).
        environment = {
            **environment,
            **{k: v for k, v in deployed.items() if k.startswith(("CHATSHOP_", "AWS_ENDPOINT"))},
            **{k: deployed[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if k in deployed},
        }
        key, shop_id = _merchant_and_shop(stack)
        path = f"/shops/{shop_id}"
        request = HttpRequest("GET", path, "", [("Authorization", f"Bearer {key}")], b"")
        match = routes_from([spec]).match("GET", path)
        event = build_proxy_event(request, match, GatewayContext(), "first-event", datetime.now(UTC))
        program = _MEASURE_FIRST_EVENT.format(target=str(file), handler=handler)
        samples = []
        for _ in range(runs):
            spawned = time.monotonic()
            output = subprocess.run(
                [*command(python, program), json.dumps(event)],
                capture_output=True,
                text=True,
                check=True,
                cwd=code_dir,
                env=environment,
            )
            status, _, done, cpu, event_ms, event_cpu = output.stdout.strip().splitlines()[-1].split()
            if status != "200":
                raise SystemExit(f"FAILED: GET {path} answered {status}: {output.stdout[-2000:]}")
            samples.append(((float(done) - spawned) * 1000, float(cpu), float(event_ms), float(event_cpu)))
    return samples


def _merchant_and_shop(stack: Any) -> tuple[str, str]:
    """A merchant's API key and its shop's id, made through the stack's shops function."""
    spec = stack.functions["ShopsFunction"].spec
    table = routes_from([spec])

    def call(method: str, path: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        headers = [("Content-Type", "application/json")] + (
            [("Authorization", f"Bearer {key}")] if key else []
        )
        request = HttpRequest(method, path, "", headers, json.dumps(body).encode())
        event = build_proxy_event(
            request, table.match(method, path), GatewayContext(), "setup", datetime.now(UTC)
        )
        result = stack.invoke("ShopsFunction", event)
        if not result.ok or result.payload["statusCode"] != 201:
            raise SystemExit(f"FAILED: {method} {path}: {result.error or result.payload}")
        return json.loads(result.payload["body"])

    merchant = call("POST", "/merchants", {"email": "first-event@example.com", "name": "First event"})
    shop = call(
        "POST",
        "/shops",
        {"name": "First event shop", "country": "US", "currency": "USD"},
        merchant["api_key"],
    )
    return merchant["api_key"], shop["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--functions-only", action="store_true", help="skip the module figures")
    parser.add_argument(
        "--repo",
        type=Path,
        default=REPO_ROOT,
        help="the checkout whose functions are started (e.g. an earlier commit's, for a before/after)",
    )
    parser.add_argument(
        "--no-first-event", action="store_true", help="skip the shops function's first event (a local stack)"
    )
    parser.add_argument(
        "--venv-site", action="store_true", help="run the virtualenv's site hooks (.pth) in each interpreter"
    )
    args = parser.parse_args()
    python = VENV_PYTHON if args.venv_site else LAMBDA_PYTHON
    root = args.repo.resolve()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"python {sys.version.split()[0]} here (Lambda: python3.12)")
    if not args.functions_only:
        width = max(len(name) for name in MODULES)
        for module in MODULES:
            samples = [import_ms(_MEASURE_MODULE, module) for _ in range(args.runs)]
            print(f"import {module:<{width}}  {summary(samples)}")

    _, code_dir, environment = function_environment(LIGHT_FUNCTIONS[0], root)
    bare = [cold_start_ms(_MEASURE_BARE, "", code_dir, environment, python) for _ in range(args.runs)]
    print(
        "interpreter: " + ("this virtualenv's, its site hooks run" if args.venv_site else "as Lambda's (-S)")
    )
    print(f"python startup alone                  {summary([s[1] for s in bare])}")
    print(f"  its CPU time                        {summary([s[2] for s in bare])}")
    for logical_id in LIGHT_FUNCTIONS:
        file, code_dir, environment = function_environment(logical_id, root)
        samples = [
            cold_start_ms(_MEASURE_FILE, str(file), code_dir, environment, python) for _ in range(args.runs)
        ]
        label = f"{file.relative_to(root)} ({logical_id})"
        print(f"{label}")
        print(f"  import alone                        {summary([s[0] for s in samples])}")
        print(f"  spawn to imported (startup incl.)   {summary([s[1] for s in samples])}")
        print(f"  its CPU time                        {summary([s[2] for s in samples])}")
        if logical_id in FIRST_UNIT_FACTORIES:
            factory = FIRST_UNIT_FACTORIES[logical_id]
            made = [first_unit_cpu_ms(file, code_dir, environment, factory) for _ in range(args.runs)]
            print(f"  then {factory}() of its first unit, CPU {summary(made)}")
    print(f"target: <= {TARGET_MS:.0f} ms from spawn to imported, for each function")
    if not args.no_first_event:
        samples = first_event_samples(args.runs, root, python)
        print("functions/shops/app.py, then its first event (a merchant's GET /shops/{shop_id}, local AWS)")
        print(f"  spawn to imported (startup incl.)   {summary([s[0] for s in samples])}")
        print(f"  its CPU time                        {summary([s[1] for s in samples])}")
        print(f"  the first event alone               {summary([s[2] for s in samples])}")
        print(f"  its CPU time                        {summary([s[3] for s in samples])}")
        print(f"  spawn to first answer               {summary([s[0] + s[2] for s in samples])}")
        print(f"  its CPU time                        {summary([s[1] + s[3] for s in samples])}")
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
