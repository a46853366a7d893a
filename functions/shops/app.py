"""Shops function: the merchant REST API for shops and catalogs (a Chalice app)."""

from __future__ import annotations

import chatshop
from chatshop.platform.config import load_settings
from chatshop.platform.http import create_app

# Read once per function sandbox, under this function's own environment.
settings = load_settings()
app = create_app("shops")


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "region": settings.region, "version": chatshop.__version__}
