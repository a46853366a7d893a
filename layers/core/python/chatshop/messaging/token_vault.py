"""Data access for channel access tokens: SSM SecureString parameters, read through powertools
parameters with caching, so a warm sender does not ask SSM for every message."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

TOKEN_CACHE_S = 300


class TokenVault:
    """Its SSM client and provider are made with the first token read or stored: the inbound worker
    holds a vault for the media customers send, and most of what comes in (Meta's statuses, text)
    carries none."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._path = settings.secrets_path

    @cached_property
    def _ssm(self) -> Any:
        return aws.client("ssm", self._settings)

    @cached_property
    def _provider(self) -> SSMProvider:
        # powertools' parameters package imports all of boto3 (s3transfer included) as it is imported:
        # imported here, on the first event that needs a token, not at cold start.
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        return SSMProvider(boto3_client=self._ssm)

    def parameter_name(self, phone_number_id: str) -> str:
        return f"{self._path}/whatsapp/{phone_number_id}/access-token"

    def store(self, phone_number_id: str, token: str) -> None:
        name = self.parameter_name(phone_number_id)
        self._ssm.put_parameter(Name=name, Value=token, Type="SecureString", Overwrite=True)
        self._provider.clear_cache()

    def token(self, phone_number_id: str, fresh: bool = False) -> str | None:
        """The number's token; ``fresh`` skips the cache (after Meta said the cached one is invalid)."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # see _provider

        try:
            value = self._provider.get(
                self.parameter_name(phone_number_id), decrypt=True, max_age=TOKEN_CACHE_S, force_fetch=fresh
            )
        except GetParameterError as exc:
            # powertools wraps the client's error; a missing parameter means no token was ever stored.
            if isinstance(
                exc.__cause__, self._ssm.exceptions.ParameterNotFound
            ) or "ParameterNotFound" in str(exc):
                return None
            raise
        return str(value)
