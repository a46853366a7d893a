"""AWS clients: one factory so every client has the same region, timeouts, retries and endpoints.

Endpoints are boto3's own: since botocore 1.28 a client honours ``AWS_ENDPOINT_URL_<SERVICE>``
and ``AWS_ENDPOINT_URL`` (read from ``os.environ`` when the client is created), which is how
the same code reaches AWS or the embedded emulator. The region always comes from Settings,
because botocore itself reads only ``AWS_DEFAULT_REGION``, not Lambda's ``AWS_REGION``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chatshop.platform.config import Settings, load_settings

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.loaders import Loader
    from botocore.session import Session

__all__ = [
    "CONNECT_TIMEOUT_S",
    "MAX_ATTEMPTS",
    "READ_TIMEOUT_S",
    "botocore_session",
    "client",
    "clear_clients",
    "endpoint_env_var",
    "pynamodb_connection_settings",
]

CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 10
MAX_ATTEMPTS = 3  # in all, the first try included (botocore's standard-mode default)

_IGNORE_ENDPOINTS_VAR = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
_GLOBAL_ENDPOINT_VAR = "AWS_ENDPOINT_URL"

_clients: dict[tuple[Any, ...], BaseClient] = {}
# boto3 sessions are not thread-safe; clients are. One lock around creation keeps two threads
# from building (and caching) two clients for the same key.
_lock = threading.Lock()


def endpoint_env_var(service_name: str) -> str:
    """The service-specific endpoint variable botocore reads, e.g. ``AWS_ENDPOINT_URL_DYNAMODB``."""
    from botocore import utils

    # Same derivation as botocore.configprovider.ConfiguredEndpointProvider (service id, snake-cased).
    name = utils.SERVICE_NAME_ALIASES.get(service_name, service_name)
    name = utils.CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(name, name)
    return "AWS_ENDPOINT_URL_" + name.replace("-", "_").upper()


def _configured_endpoint(service_name: str, environ: Mapping[str, str]) -> str | None:
    if environ.get(_IGNORE_ENDPOINTS_VAR, "").lower() == "true":
        return None
    return environ.get(endpoint_env_var(service_name)) or environ.get(_GLOBAL_ENDPOINT_VAR) or None


def _cache_key(service_name: str, region: str, environ: Mapping[str, str]) -> tuple[Any, ...]:
    # Everything botocore will read from the environment that changes which client we get: two
    # functions with different endpoints (or credentials) in one process must not share one.
    return (
        service_name,
        region,
        environ.get(endpoint_env_var(service_name)),
        environ.get(_GLOBAL_ENDPOINT_VAR),
        environ.get(_IGNORE_ENDPOINTS_VAR),
        environ.get("AWS_ACCESS_KEY_ID"),
        environ.get("AWS_PROFILE"),
    )


def _client_config(service_name: str, endpoint: str | None, settings: Settings) -> Any:
    from botocore.config import Config

    options: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "read_timeout": READ_TIMEOUT_S,
        "retries": {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        "user_agent_extra": f"chatshop/{settings.version}",
    }
    if service_name == "s3":
        # SigV4 so presigned URLs are valid in every region. Path-style against an emulator, which
        # cannot answer virtual-hosted names like bucket.127.0.0.1. On AWS, explicitly virtual:
        # botocore's "auto" presigns against the global bucket.s3.amazonaws.com, which answers a
        # young bucket outside us-east-1 with a 307 that breaks the signature.
        options["signature_version"] = "s3v4"
        options["s3"] = {"addressing_style": "path" if endpoint else "virtual"}
    return Config(**options)


def client(service_name: str, settings: Settings | None = None) -> BaseClient:
    """A cached boto3 client for ``service_name`` in ``settings.region`` (default: settings now)."""
    if settings is None:
        settings = load_settings()
    environ = os.environ
    key = _cache_key(service_name, settings.region, environ)
    cached = _clients.get(key)
    if cached is not None:
        return cached
    with _lock:
        cached = _clients.get(key)
        if cached is None:
            import boto3

            endpoint = _configured_endpoint(service_name, environ)
            core = botocore_session()
            session = boto3.session.Session(region_name=settings.region, botocore_session=core)
            # boto3 adds its data folder to the loader's search path with each session: once is enough.
            paths = core.get_component("data_loader").search_paths
            paths[:] = list(dict.fromkeys(paths))
            cached = session.client(service_name, config=_client_config(service_name, endpoint, settings))
            _clients[key] = cached
    return cached


def botocore_session() -> Session:
    """A new botocore session (sessions are not thread-safe) reading botocore's data through the one
    loader of the process: each session would otherwise parse the endpoints and the service's model
    again (JSON of megabytes), tens of ms of every client a function's first event makes. Our clients
    and the pynamodb models' (``chatshop.shops.tables``) are made by such sessions."""
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader(session.get_config_variable("data_path")))
    return session


@functools.cache
def _shared_loader(data_path: str | None) -> Loader:
    from botocore.loaders import create_loader

    return create_loader(data_path)  # as botocore's session makes its own (AWS_DATA_PATH honoured)


def clear_clients() -> None:
    """Forget every cached client (tests; a credential rotation)."""
    with _lock:
        _clients.clear()


def pynamodb_connection_settings(settings: Settings) -> dict[str, Any]:
    """Attributes for a pynamodb model's ``Meta`` (or ``Connection`` kwargs) matching :func:`client`.

    What pynamodb 6.1 does (read in its source): ``Connection.client`` calls botocore's
    ``session.create_client("dynamodb", region, endpoint_url=host)``; with ``host=None`` botocore
    resolves ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL`` itself, so no host is set here.
    Its region defaults to None, which botocore fills from ``AWS_DEFAULT_REGION`` only, hence the
    explicit region. Its own defaults are 15 s connect / 30 s read; these match our clients.
    The connection is cached on the model class (``Model._connection``) when first used.
    """
    return {
        "region": settings.region,
        "connect_timeout_seconds": CONNECT_TIMEOUT_S,
        "read_timeout_seconds": READ_TIMEOUT_S,
        "max_retry_attempts": MAX_ATTEMPTS - 1,
    }
