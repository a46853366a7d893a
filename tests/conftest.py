"""Shared fixtures: a free loopback port, and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chatshop_local.emulator import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent

# No test may reach a real AWS account, whatever the developer's shell has configured.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


# Meta's webhook bodies (from the MIT-licensed pywa project; see tests/fixtures/whatsapp/SOURCES.md),
# kept byte for byte: signatures are computed over the files' exact bytes.
WHATSAPP_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "whatsapp"
