"""boto3 clients bound to the embedded AWS, for the local runtime's own use (not the functions')."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from .emulator import EMULATOR_CREDENTIALS


class EmulatorClients:
    def __init__(self, endpoint_url: str, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=EMULATOR_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=region,
        )
        self._clients: dict[str, Any] = {}
        # boto3 sessions are not thread-safe; clients made from them are.
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.endpoint_url,
                    config=Config(
                        signature_version="s3v4" if service == "s3" else None,
                        s3={"addressing_style": "path"},
                        retries={"mode": "standard", "max_attempts": 3},
                        read_timeout=30,
                        # One client serves every poller, each holding a connection in a long poll.
                        max_pool_connections=64,
                    ),
                )
            return self._clients[service]
