"""Customers' photos and files: fetched from Meta while the URL lives, kept in the media bucket."""

from __future__ import annotations

from dataclasses import dataclass

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .graph_client import GraphClient, MediaUnavailable
from .token_vault import TokenVault


def media_key(phone_number_id: str, media_id: str) -> str:
    return f"whatsapp-media/{phone_number_id}/{media_id}"


class MediaBucketWriter:
    """Data access: the media bucket, for what customers sent. Its S3 client (one of botocore's
    largest models to parse) is made with the first media kept, not for the statuses and text most
    units are."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._bucket = settings.require("media_bucket")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        s3 = aws.client("s3", self._settings)
        s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)


@dataclass(frozen=True)
class MediaFetcher:
    graph: GraphClient
    tokens: TokenVault
    bucket: MediaBucketWriter

    def keep(self, phone_number_id: str, media_id: str) -> str | None:
        """The bucket key of the media, or None when Meta no longer has it (the message is kept anyway)."""
        token = self.tokens.token(phone_number_id)
        if token is None:
            return None
        try:
            data, content_type = self.graph.download_media(media_id, token)
        except (MediaUnavailable, OSError):
            return None
        key = media_key(phone_number_id, media_id)
        self.bucket.put(key, data, content_type)
        return key
