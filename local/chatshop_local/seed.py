"""Demo data for `chatshop dev`, written through the same logic the functions use."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from chatshop.platform.config import load_settings
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.merchants import register_merchant

from . import environ
from .functions import LocalFunction

# Seeding runs with this function's environment, so it writes where the function reads.
SEED_AS = "ShopsFunction"
DEMO_FILE = "demo.json"


def seed_demo_data(functions: Mapping[str, LocalFunction], state_dir: Path) -> dict[str, str]:
    with environ.function_environ(dict(functions[SEED_AS].environment)):
        settings = load_settings()
        store = MerchantStore(settings.require("shops_table"), settings.region)
        signup = register_merchant(store, name="Demo Merchant", email="demo@chatshop.example")
    demo = {"merchant_id": signup.merchant.id, "api_key": signup.api_key}
    # Local-only convenience: the key is stored hashed in the table; this copy lets `chatshop dev`
    # show it again after a restart. The state folder is git-ignored and readable by its owner only.
    path = state_dir / DEMO_FILE
    path.write_text(json.dumps(demo))
    os.chmod(path, 0o600)
    return demo
