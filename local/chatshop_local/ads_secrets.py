"""The ads secrets on the embedded AWS, where the functions read them on AWS too: the keyring that
signs ad event URLs and the secret chat user keys are derived with.

They come from CHATSHOP_ADS_EVENT_KEYS (``<id>:<secret>[,...]``) and CHATSHOP_ADS_USER_KEY_SECRET;
when unset, local values are used, which guard nothing real.
"""

from __future__ import annotations

from typing import Any

from chatshop.ads.secrets import event_keys_parameter, user_key_secret_parameter
from chatshop.ads.tokens import EventKeys

from . import environ

EVENT_KEYS_VARIABLE = "CHATSHOP_ADS_EVENT_KEYS"
USER_KEY_SECRET_VARIABLE = "CHATSHOP_ADS_USER_KEY_SECRET"
LOCAL_EVENT_KEYS = "1:local-ads-event-signing-key"
LOCAL_USER_KEY_SECRET = "local-ads-user-key-secret"


def install_ads_secrets(ssm: Any, secrets_path: str) -> EventKeys:
    process = environ.process_environ()
    event_keys = process.get(EVENT_KEYS_VARIABLE) or LOCAL_EVENT_KEYS
    keys = EventKeys.parse(event_keys)  # a bad keyring is refused here, not on the first ad event
    values = {
        event_keys_parameter(secrets_path): event_keys,
        user_key_secret_parameter(secrets_path): process.get(USER_KEY_SECRET_VARIABLE)
        or LOCAL_USER_KEY_SECRET,
    }
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    return keys
