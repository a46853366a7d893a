"""The embedded AWS takes every upload boto3 makes, an empty one included."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from chatshop_local.emulator import EMULATOR_CREDENTIALS, MotoServer, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3():
    server = MotoServer(free_port())
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, read_timeout=5, retries={"max_attempts": 1}),
    )
    client.create_bucket(Bucket="uploads-bucket")
    yield client
    server.stop()


@pytest.mark.parametrize("body", [b"", b"x", b"y" * 70_000], ids=["empty", "one-byte", "70-kB"])
def test_an_upload_is_stored_whatever_its_size(s3, body):
    # When boto3 uploads (it sends Expect: 100-continue, even for an empty body)
    s3.put_object(Bucket="uploads-bucket", Key=f"object-{len(body)}", Body=body)

    # Then the object is there, byte for byte
    stored = s3.get_object(Bucket="uploads-bucket", Key=f"object-{len(body)}")["Body"].read()
    assert stored == body
