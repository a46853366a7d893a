"""The AWS client factory: region from Settings, endpoints from the environment, no network."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from pynamodb.connection import Connection

from chatshop.platform import aws
from chatshop.platform.config import Settings

EU = Settings(region="eu-west-1")


def test_region_comes_from_settings_and_aws_is_the_default_endpoint() -> None:
    dynamodb = aws.client("dynamodb", EU)

    assert dynamodb.meta.region_name == "eu-west-1"
    assert dynamodb.meta.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"


def test_the_global_endpoint_variable_applies_to_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")

    assert aws.client("sqs", EU).meta.endpoint_url == "http://127.0.0.1:5000"
    assert aws.client("dynamodb", EU).meta.endpoint_url == "http://127.0.0.1:5000"


def test_a_service_endpoint_variable_wins_over_the_global_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")

    assert aws.client("dynamodb", EU).meta.endpoint_url == "http://127.0.0.1:8000"
    assert aws.client("sqs", EU).meta.endpoint_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("service", "variable"),
    [
        ("dynamodb", "AWS_ENDPOINT_URL_DYNAMODB"),
        ("s3", "AWS_ENDPOINT_URL_S3"),
        ("dynamodbstreams", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"),
        ("stepfunctions", "AWS_ENDPOINT_URL_SFN"),
    ],
)
def test_endpoint_variable_names_match_what_botocore_reads(
    monkeypatch: pytest.MonkeyPatch, service: str, variable: str
) -> None:
    # Given the variable our cache key uses for the service
    assert aws.endpoint_env_var(service) == variable
    monkeypatch.setenv(variable, "http://127.0.0.1:4567")

    # Then botocore itself honours that very variable
    assert aws.client(service, EU).meta.endpoint_url == "http://127.0.0.1:4567"


def test_clients_are_cached_per_service_region_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given one process where two functions see different endpoints
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5001")
    first = aws.client("sqs", EU)
    assert aws.client("sqs", EU) is first

    # When the second function's environment is active
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5002")
    second = aws.client("sqs", EU)

    # Then it gets its own, correctly configured client
    assert second is not first
    assert second.meta.endpoint_url == "http://127.0.0.1:5002"
    assert aws.client("sqs", Settings(region="sa-east-1")).meta.region_name == "sa-east-1"


def test_without_settings_the_region_is_read_from_the_environment_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-south-1")

    assert aws.client("sqs").meta.region_name == "ap-south-1"


def test_concurrent_callers_share_one_client() -> None:
    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(aws.client("sns", EU))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8 and all(result is results[0] for result in results)


def test_timeouts_and_retries() -> None:
    config = aws.client("sqs", EU).meta.config

    assert config.connect_timeout == 2
    assert config.read_timeout == 10
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_s3_against_an_emulator_presigns_path_style_sigv4_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a local S3 endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5000")
    s3 = aws.client("s3", EU)

    # When a URL is presigned (local signing, no request is sent)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "p/1.jpg"}, ExpiresIn=60)

    # Then it addresses the emulator path-style and is signed with SigV4
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:5000", "/media/p/1.jpg")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in parts.query
    assert s3.meta.config.s3["addressing_style"] == "path"


def test_s3_on_aws_presigns_regional_virtual_hosted_sigv4_urls() -> None:
    s3 = aws.client("s3", EU)

    url = s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "k"}, ExpiresIn=60)

    # Regional, not botocore's default global media.s3.amazonaws.com (307s for young buckets)
    assert urlsplit(url).netloc == "media.s3.eu-west-1.amazonaws.com"
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url


def test_pynamodb_connections_get_our_region_and_honour_the_dynamodb_endpoint_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the emulator's DynamoDB endpoint (pynamodb is given no host)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    options = aws.pynamodb_connection_settings(EU)

    # When pynamodb builds its botocore client
    connection = Connection(**options)

    # Then botocore resolved the endpoint from the environment, and the region is ours
    assert "host" not in options
    assert connection.client.meta.endpoint_url == "http://127.0.0.1:8000"
    assert connection.client.meta.region_name == "eu-west-1"
    assert connection.client.meta.config.connect_timeout == aws.CONNECT_TIMEOUT_S


def test_clients_of_every_service_read_botocore_data_through_one_loader() -> None:
    # Given clients of two services, made by two sessions (boto3 sessions are not thread-safe)
    aws.clear_clients()
    sqs, s3 = aws.client("sqs", EU), aws.client("s3", EU)

    # Then botocore's endpoints and models are parsed once for both, boto3's data folder searched once
    loader = sqs._loader
    assert s3._loader is loader
    assert len(loader.search_paths) == len(set(loader.search_paths))
    assert loader.load_data("endpoints") is loader.load_data("endpoints")
