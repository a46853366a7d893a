"""What a light function's cold start imports: nothing its first event may not need.

Each function file is imported in a fresh interpreter, as Lambda does on a cold start (its folder
first on sys.path, the core layer after it), and the modules it left loaded are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
LAYER = REPO_ROOT / "layers" / "core" / "python"
LIGHT_FUNCTIONS = [
    "functions/webhook/app.py",
    "functions/inbound/handler.py",
    "functions/sender/handler.py",
    "functions/shops/app.py",
]
# Deferred to the first call that needs them (a secret read, an AWS client made, a trace sent).
NOT_AT_COLD_START = [
    "boto3",
    "s3transfer",
    "aws_lambda_powertools.utilities.parameters",
    "aws_xray_sdk",
    "torch",
    "sentence_transformers",
    # The assistant's catalogs and language detector load on its first message.
    "babel",
    "lingua",
    "numpy",
    # Powertools' pydantic event models, which its batch module builds if pydantic came first.
    "aws_lambda_powertools.utilities.parser.models",
]
# What one function's first event does not need though another's does: the catalog's models (in a
# conversation's state only as the cart's lines), Meta's webhook models (the sender parses none).
NOT_AT_COLD_START_OF = {
    "functions/inbound/handler.py": ["chatshop.shops.domain", "chatshop.assistant.vocabulary"],
    "functions/sender/handler.py": ["chatshop.messaging.inbound", "chatshop.shops.domain"],
    # The shops API's first request is most likely a shop's or the catalog's: the other route groups'
    # logic, models and stores load with their first route (the FAQ, catalog imports and their feed
    # parser, the WhatsApp connection and Meta's client).
    "functions/shops/app.py": [
        "chatshop.shops.faq",
        "chatshop.shops.faq_store",
        "chatshop.shops.imports",
        "chatshop.shops.import_store",
        "chatshop.shops.feed",
        "chatshop.shops.jobs",
        "chatshop.messaging.channels",
        "chatshop.messaging.channel_models",
        "chatshop.messaging.channel_store",
        "chatshop.messaging.token_vault",
        "chatshop.messaging.graph_client",
    ],
}

_PROGRAM = (
    "import json, runpy, sys; runpy.run_path({file!r}); "
    "print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
)


@pytest.mark.parametrize("file", LIGHT_FUNCTIONS)
def test_a_cold_start_leaves_heavy_modules_for_the_first_event_that_needs_them(file):
    # Given the function's folder as the task root and the core layer on the path, inside "Lambda"
    code_dir = REPO_ROOT / Path(file).parent
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(LAYER)]),
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start-test",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "POWERTOOLS_SERVICE_NAME": "cold-start-test",
        "CHATSHOP_SHOPS_TABLE": "shops",
        "CHATSHOP_MESSAGING_TABLE": "messaging",
    }
    environment.pop("POWERTOOLS_TRACE_DISABLED", None)

    # When its handler file is imported in a fresh interpreter
    deferred = NOT_AT_COLD_START + NOT_AT_COLD_START_OF.get(file, [])
    program = _PROGRAM.format(file=str(REPO_ROOT / file), modules=deferred)
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=code_dir, env=environment, capture_output=True, text=True
    )

    # Then none of the deferred modules is loaded yet
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


_BUILT_MODELS = (
    "import json, runpy, sys; runpy.run_path({file!r}); domain = sys.modules['chatshop.shops.domain']; "
    "print(json.dumps([n for n in {models!r} if getattr(domain, n).__pydantic_complete__]))"
)


def test_a_cold_start_of_the_shops_api_builds_none_of_the_catalogs_models():
    # Given the shops API's folder as the task root, as in the test above
    file = "functions/shops/app.py"
    code_dir = REPO_ROOT / Path(file).parent
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(LAYER)]),
        "AWS_REGION": "us-east-1",
        "CHATSHOP_SHOPS_TABLE": "shops",
    }
    models = ["Merchant", "Shop", "ShopCreate", "ShopPatch", "Product", "ProductCreate", "ProductPatch"]

    # When it is imported in a fresh interpreter
    program = _BUILT_MODELS.format(file=str(REPO_ROOT / file), models=models)
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=code_dir, env=environment, capture_output=True, text=True
    )

    # Then each model's validator is left for the first request that uses it
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


_FIRST_UNIT = (
    "import json, runpy, sys; module = runpy.run_path({file!r}); module[{factory!r}](); "
    "from chatshop.platform import aws; "
    "print(json.dumps([sorted({{key[0] for key in aws._clients}}), "
    "[m for m in {modules!r} if m in sys.modules]]))"
)
# The part a worker's first unit makes before handling it (cached for the next units), and the AWS
# clients it may hold then: its table's. SSM (a number's token), S3 (a customer's media) and SQS (an
# answer, a retry) wait for the unit that needs them; Meta's statuses, most units, need none.
FIRST_UNIT_OF = {
    "functions/inbound/handler.py": "worker",
    "functions/sender/handler.py": "sender",
}


@pytest.mark.parametrize("file", FIRST_UNIT_OF)
def test_a_workers_first_unit_makes_only_the_clients_every_unit_needs(file):
    # Given the worker's folder as the task root, its queues, table and bucket configured
    code_dir = REPO_ROOT / Path(file).parent
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(LAYER)]),
        "AWS_REGION": "us-east-1",
        "CHATSHOP_MESSAGING_TABLE": "messaging",
        "CHATSHOP_OUTBOUND_QUEUE": "https://sqs.us-east-1.amazonaws.com/123456789012/outbound",
        "CHATSHOP_PHOTO_SEARCH_QUEUE": "https://sqs.us-east-1.amazonaws.com/123456789012/photos",
        "CHATSHOP_MEDIA_BUCKET": "media",
    }

    # When what its first unit makes is made, in a fresh interpreter
    modules = ["aws_lambda_powertools.utilities.parameters"]
    program = _FIRST_UNIT.format(file=str(REPO_ROOT / file), factory=FIRST_UNIT_OF[file], modules=modules)
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=code_dir, env=environment, capture_output=True, text=True
    )

    # Then it holds a client for its table only, and has not loaded powertools' SSM parameters
    assert result.returncode == 0, result.stderr[-2000:]
    services, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert services == ["dynamodb"]
    assert loaded == []
