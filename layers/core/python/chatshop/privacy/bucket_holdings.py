"""A customer's objects in the media bucket: the files they sent, the webhook archives that hold
their messages, and the exports made of their data (boto3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from chatshop.platform import aws
from chatshop.platform.config import Settings

EXPORTS_PREFIX = "privacy-exports/"
_DELETE_LIMIT = 1000


def export_key(shop_id: str, request_id: str) -> str:
    return f"{EXPORTS_PREFIX}{shop_id}/{request_id}.zip"


class BucketHoldings:
    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.require("media_bucket")
        self._s3 = aws.client("s3", settings)
        self._missing = self._s3.exceptions.NoSuchKey

    def read(self, key: str) -> bytes | None:
        """An object's bytes, or None where it is gone (expired by the bucket's lifecycle)."""
        try:
            return self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except self._missing:
            return None

    def put_export(self, key: str, data: bytes) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType="application/zip",
            ServerSideEncryption="AES256",
        )

    def link(self, key: str, lifetime: timedelta) -> str:
        return self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=max(1, int(lifetime.total_seconds())),
        )

    def delete(self, keys: Iterable[str]) -> int:
        """Delete these objects (a gone one counts as deleted); how many were asked."""
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _DELETE_LIMIT):
            batch = unique[start : start + _DELETE_LIMIT]
            answer = self._s3.delete_objects(
                Bucket=self._bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise RuntimeError(
                    f"S3 refused to delete {len(answer['Errors'])} objects: {first.get('Code')}"
                )
        return len(unique)
