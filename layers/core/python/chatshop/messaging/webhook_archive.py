"""Data access for the webhook archive: every raw body Meta posted, as received, in the bucket."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from chatshop.platform import aws
from chatshop.platform.config import Settings


class WebhookArchive:
    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.require("media_bucket")
        self._s3 = aws.client("s3", settings)

    def keep(self, raw_body: bytes) -> str:
        """Store the body under its date and hash: a retried delivery lands on the same key."""
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        key = f"webhooks/whatsapp/{day}/{hashlib.sha256(raw_body).hexdigest()}.json"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=raw_body, ContentType="application/json")
        return key
