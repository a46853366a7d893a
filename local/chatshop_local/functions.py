"""Runs a template function in this process as Lambda runs it in its sandboxes.

A sandbox imports the function's handler module anew (its cold start), under its own copy of the
function's environment variables, from the function's code folder, and serves one event at a time
with a Lambda context, as on Lambda (frameworks such as Chalice keep the current request on the app
object). A function has up to a few sandboxes at once; different functions run concurrently.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from . import environ
from .deploy import DeployedFunction
from .template import FunctionSpec

log = logging.getLogger("chatshop.local")

# Lambda's default is far higher; locally a few concurrent sandboxes per function are enough to keep
# one slow event from holding up the rest, without paying many cold starts.
DEFAULT_SANDBOXES = 4
# Importing a handler briefly puts its folder on sys.path: one import at a time.
_IMPORT_LOCK = threading.Lock()
# The function whose code runs in this context: what tells one function's log lines from another's
# when all of them share this process.
_running: ContextVar[str | None] = ContextVar("chatshop_running_function", default=None)


def running_function() -> str | None:
    """The logical id of the function running in this context (its import included), if any."""
    return _running.get()


@contextmanager
def _running_as(logical_id: str) -> Iterator[None]:
    token = _running.set(logical_id)
    try:
        yield
    finally:
        _running.reset(token)


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    payload: Any
    error: dict[str, Any] | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None


class LambdaContext:
    """The context object of the Python runtime, with the same attribute names."""

    def __init__(self, function: DeployedFunction, request_id: str, deadline: float) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = str(function.memory_mb)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class _Sandbox:
    """One warm execution environment: its own module (and so its own globals) and environment."""

    number: int
    handler: Any
    environment: dict[str, str]


class LocalFunction:
    """A function and its sandboxes: up to ``max_sandboxes`` events at once, one per sandbox, as
    Lambda runs concurrent invocations in separate environments (a framework such as Chalice keeps
    the current request on its app object, so a sandbox never serves two events at a time)."""

    def __init__(
        self,
        spec: FunctionSpec,
        deployed: DeployedFunction,
        environment: dict[str, str],
        max_sandboxes: int = DEFAULT_SANDBOXES,
    ) -> None:
        self.spec = spec
        self.deployed = deployed
        self.environment = environment
        self._max_sandboxes = max(1, max_sandboxes)
        self._idle: list[_Sandbox] = []
        self._started = 0
        self._available = threading.Condition()

    @property
    def logical_id(self) -> str:
        return self.spec.logical_id

    @property
    def handler(self) -> str:
        return function_handler(self.deployed, self.spec)

    @property
    def max_sandboxes(self) -> int:
        return self._max_sandboxes

    def invoke(self, event: Any) -> InvocationResult:
        with _running_as(self.logical_id):
            return self._invoke(event)

    def _invoke(self, event: Any) -> InvocationResult:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            sandbox = self._acquire()
        except Exception as exc:  # noqa: BLE001 - an import failure is the invocation's error, as on Lambda
            return self._failed(request_id, exc, started)
        try:
            with environ.function_environ(sandbox.environment):
                started = time.monotonic()
                deadline = started + self.deployed.timeout_s
                payload = sandbox.handler(event, LambdaContext(self.deployed, request_id, deadline))
        except Exception as exc:  # noqa: BLE001 - the runtime reports every failure, as Lambda does
            return self._failed(request_id, exc, started)
        finally:
            self._release(sandbox)
        duration_ms = (time.monotonic() - started) * 1000
        if duration_ms > self.deployed.timeout_s * 1000:
            # A thread cannot be stopped; the late result is discarded as Lambda would discard it.
            message = f"Task timed out after {self.deployed.timeout_s:.2f} seconds"
            log.error("%s %s (request %s)", self.logical_id, message, request_id)
            error = {"errorType": "Sandbox.Timedout", "errorMessage": message, "stackTrace": []}
            return InvocationResult(request_id, None, error, duration_ms)
        return InvocationResult(request_id, payload, None, duration_ms)

    def _failed(self, request_id: str, exc: Exception, started: float) -> InvocationResult:
        error = _error_payload(exc)
        log.error("%s failed (request %s):\n%s", self.logical_id, request_id, "".join(error["stackTrace"]))
        return InvocationResult(request_id, None, error, (time.monotonic() - started) * 1000)

    def _acquire(self) -> _Sandbox:
        """A warm sandbox, or a new one (its cold start) while fewer than the maximum exist."""
        with self._available:
            while not self._idle and self._started >= self._max_sandboxes:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
            number = self._started
        try:
            return self._new_sandbox(number)
        except BaseException:
            with self._available:
                self._started -= 1
                self._available.notify()
            raise

    def _release(self, sandbox: _Sandbox) -> None:
        with self._available:
            self._idle.append(sandbox)
            self._available.notify()

    def _new_sandbox(self, number: int) -> _Sandbox:
        environment = dict(self.environment)
        with environ.function_environ(environment), _IMPORT_LOCK:
            handler = _import_handler(f"{self.spec.logical_id}_{number}", self.spec.code_dir, self.handler)
        return _Sandbox(number, handler, environment)


def _import_handler(logical_id: str, code_dir: Path, handler: str) -> Any:
    module_path, _, attribute = handler.rpartition(".")
    if not module_path or not attribute:
        raise ImportError(f"handler {handler!r} of {logical_id} is not 'module.function'")
    file = code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
    if not file.is_file():
        raise ImportError(f"handler module of {logical_id} not found: {file}")
    module = _load_module(f"_chatshop_function_{logical_id}_{module_path.replace('.', '_')}", file, code_dir)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"{file} has no {attribute!r} (handler {handler!r} of {logical_id})") from None


def _load_module(name: str, file: Path, code_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # The code folder is the task root on Lambda: the handler may import its neighbours.
    sys.path.insert(0, str(code_dir))
    try:
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(code_dir))
    return module


def _error_payload(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def function_handler(deployed: DeployedFunction, spec: FunctionSpec) -> str:
    # A container image function has no Handler: its image's command names it (ImageConfig.Command).
    return deployed.handler or spec.handler


def lambda_environment(
    base: dict[str, str], deployed: DeployedFunction, spec: FunctionSpec, region: str
) -> dict[str, str]:
    """The variables a function sees: the process's, Lambda's reserved ones, then the template's."""
    reserved = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": deployed.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(deployed.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{deployed.name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": function_handler(deployed, spec),
        # No X-Ray daemon runs locally: keep powertools' Tracer and the X-Ray SDK quiet.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_XRAY_SDK_ENABLED": "false",
    }
    return environ.build_function_environ(base, reserved, deployed.environment)
