"""The real template.yaml deployed on the embedded AWS, for tests of logic and data access."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatshop_local import environ
from chatshop_local.emulator import free_port
from chatshop_local.stack import LocalStack, StackOptions

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def app_stack(tmp_path_factory: pytest.TempPathFactory):
    """The project's stack, deployed but not served: tests call logic directly against it."""
    stack = LocalStack(
        StackOptions(
            template_path=REPO_ROOT / "template.yaml",
            state_dir=tmp_path_factory.mktemp("app-state"),
            aws_port=free_port(),
            seed=False,
            serve=False,
        )
    )
    stack.start()
    yield stack
    stack.stop(save=False)


@pytest.fixture
def shops_environ(app_stack):
    """Run the test body with the ShopsFunction's environment, as the function itself would."""
    with environ.function_environ(dict(app_stack.functions["ShopsFunction"].environment)):
        yield
