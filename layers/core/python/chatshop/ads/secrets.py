"""Data access for the ads secrets: the keyring that signs event URLs, and the secret that turns a
WhatsApp number into an ad user key. SSM SecureString parameters under the secrets path, as the
WhatsApp app secret is, read through powertools parameters with caching.

Two parameters, not one key for both: the event keys rotate (tokens live 24 hours), while a chat
user key must stay the same for as long as the consent recorded under it does.
"""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .tokens import EventKeys

SECRETS_CACHE_S = 300


def event_keys_parameter(secrets_path: str) -> str:
    return f"{secrets_path}/ads/event-keys"


def user_key_secret_parameter(secrets_path: str) -> str:
    return f"{secrets_path}/ads/user-key-secret"


class AdsSecrets:
    def __init__(self, settings: Settings) -> None:
        # powertools' parameters package imports all of boto3 as it is imported: not at cold start.
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        self._path = settings.secrets_path
        self._provider = SSMProvider(boto3_client=aws.client("ssm", settings))

    def event_keys(self) -> EventKeys:
        return EventKeys.parse(self._get(event_keys_parameter(self._path)))

    def user_key_secret(self) -> bytes:
        return self._get(user_key_secret_parameter(self._path)).encode()

    def _get(self, name: str) -> str:
        return str(self._provider.get(name, decrypt=True, max_age=SECRETS_CACHE_S))
