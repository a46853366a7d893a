"""The other regions a webhook can be relayed to, as the template's WebhookPeers parameter gives them."""

from __future__ import annotations

import pytest

from chatshop.messaging.relay import WebhookRelay, parse_peers
from chatshop.platform.errors import ValidationFailed


def test_peers_are_read_and_this_region_is_left_out() -> None:
    text = "sa-east-1=https://br.example/webhooks/whatsapp, us-east-1=https://us.example/webhooks/whatsapp"

    assert parse_peers(text, "us-east-1") == {"sa-east-1": "https://br.example/webhooks/whatsapp"}
    assert parse_peers("", "us-east-1") == {} and parse_peers(None, "us-east-1") == {}
    assert not WebhookRelay("us-east-1", {}).has_peers


@pytest.mark.parametrize("text", ["sa-east-1", "sa-east-1=ftp://x", "=https://x"])
def test_a_malformed_peer_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_peers(text, "us-east-1")


def test_a_region_that_cannot_be_reached_is_reported_failed() -> None:
    # Nothing listens on port 9 of loopback (discard): the connection is refused at once
    relay = WebhookRelay("us-east-1", {"sa-east-1": "http://127.0.0.1:9/webhooks/whatsapp"}, timeout_s=1)

    outcome = relay.relay(b"{}", "sha256=00")

    assert outcome.region is None and outcome.failed == ("sa-east-1",)
