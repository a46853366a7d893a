"""Data access for channel access tokens: SSM SecureString parameters, read through powertools
parameters with caching, so a warm sender does not ask SSM for every message."""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

TOKEN_CACHE_S = 300


class TokenVault:
    def __init__(self, settings: Settings) -> None:
        # powertools' parameters package imports all of boto3 (s3transfer included) as it is imported:
        # imported here, on the first event that needs a token, not at cold start.
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        self._path = settings.secrets_path
        self._ssm = aws.client("ssm", settings)
        self._provider = SSMProvider(boto3_client=self._ssm)

    def parameter_name(self, phone_number_id: str) -> str:
        return f"{self._path}/whatsapp/{phone_number_id}/access-token"

    def store(self, phone_number_id: str, token: str) -> None:
        name = self.parameter_name(phone_number_id)
        self._ssm.put_parameter(Name=name, Value=token, Type="SecureString", Overwrite=True)
        self._provider.clear_cache()

    def token(self, phone_number_id: str, fresh: bool = False) -> str | None:
        """The number's token; ``fresh`` skips the cache (after Meta said the cached one is invalid)."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # see __init__

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
