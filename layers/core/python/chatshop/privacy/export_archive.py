"""The export a customer receives: one zip, ``data.json`` with everything held about them in the
shop, and the files they sent under ``media/``, by the names the data uses for them."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

DATA_NAME = "data.json"
MEDIA_FOLDER = "media/"


def media_name(key: str) -> str:
    """The file's name in the zip: its bucket key without the folders only chatshop uses."""
    return MEDIA_FOLDER + key.rsplit("/", 1)[-1]


def build_export(data: Mapping[str, Any], media: Mapping[str, bytes]) -> bytes:
    """``media``: bucket key -> bytes, each file the data names by its key."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        body = {**data, "media_files": {key: media_name(key) for key in media}}
        archive.writestr(DATA_NAME, json.dumps(body, ensure_ascii=False, indent=2, default=str))
        for key, content in media.items():
            # Photos are compressed already: stored as they are.
            archive.writestr(zipfile.ZipInfo(media_name(key)), content, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()
