"""The WhatsApp app's webhook secrets on the embedded AWS, where the functions read them on AWS too.

They come from CHATSHOP_WHATSAPP_APP_SECRET and CHATSHOP_WHATSAPP_VERIFY_TOKEN; when those are
unset, local defaults are used (and shown, since they guard nothing real).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatshop.messaging.webhook_secrets import app_secret_parameter, verify_token_parameter

from . import environ

APP_SECRET_VARIABLE = "CHATSHOP_WHATSAPP_APP_SECRET"
VERIFY_TOKEN_VARIABLE = "CHATSHOP_WHATSAPP_VERIFY_TOKEN"
LOCAL_APP_SECRET = "local-app-secret"
LOCAL_VERIFY_TOKEN = "local-verify-token"


@dataclass(frozen=True)
class LocalWebhookSecrets:
    app_secret: str
    verify_token: str
    defaulted: bool


def local_app_secret() -> str:
    """The app secret Meta signs webhooks with, as every local stack installs it."""
    return environ.process_environ().get(APP_SECRET_VARIABLE) or LOCAL_APP_SECRET


def install_webhook_secrets(ssm: Any, secrets_path: str) -> LocalWebhookSecrets:
    process = environ.process_environ()
    app_secret = local_app_secret()
    verify_token = process.get(VERIFY_TOKEN_VARIABLE) or LOCAL_VERIFY_TOKEN
    values = {
        app_secret_parameter(secrets_path): app_secret,
        verify_token_parameter(secrets_path): verify_token,
    }
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    defaulted = not (process.get(APP_SECRET_VARIABLE) and process.get(VERIFY_TOKEN_VARIABLE))
    return LocalWebhookSecrets(app_secret, verify_token, defaulted)
