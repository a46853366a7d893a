"""Data access for the WhatsApp app's webhook secrets: the app secret that signs Meta's webhooks and
the verify token of Meta's handshake. SSM SecureString parameters under the secrets path, read
through powertools parameters with caching."""

from __future__ import annotations

from dataclasses import dataclass

from chatshop.platform import aws
from chatshop.platform.config import Settings

SECRETS_CACHE_S = 300


@dataclass(frozen=True)
class WebhookSecrets:
    app_secret: str
    verify_token: str


def app_secret_parameter(secrets_path: str) -> str:
    return f"{secrets_path}/whatsapp/app-secret"


def verify_token_parameter(secrets_path: str) -> str:
    return f"{secrets_path}/whatsapp/verify-token"


class WebhookSecretsSource:
    def __init__(self, settings: Settings) -> None:
        # powertools' parameters package imports all of boto3 (s3transfer included) as it is imported:
        # imported here, on the first event that reads a secret, not at cold start.
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        self._path = settings.secrets_path
        self._provider = SSMProvider(boto3_client=aws.client("ssm", settings))

    def load(self) -> WebhookSecrets:
        return WebhookSecrets(
            app_secret=self._get(app_secret_parameter(self._path)),
            verify_token=self._get(verify_token_parameter(self._path)),
        )

    def _get(self, name: str) -> str:
        return str(self._provider.get(name, decrypt=True, max_age=SECRETS_CACHE_S))
