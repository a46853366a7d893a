"""Relaying a webhook that reached the wrong region to the region whose numbers it is about.

Meta posts a WhatsApp Business Account's webhooks to the URL set for it (the home region's, once a
number is connected), but a delivery can still land elsewhere: the app-wide URL, a number moved to
another region. Such a body is personal data of another region's customers, so it is neither
archived nor queued here: it is sent on unchanged, body and signature, to the other regions' webhook
URLs in turn, each of which verifies it again and takes it only if one of its numbers is in it.
A relayed request carries ``X-Chatshop-Relayed-From`` and is never relayed again, so two regions
cannot bounce a body between them.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from chatshop.platform.errors import ValidationFailed

RELAYED_HEADER = "X-Chatshop-Relayed-From"
RELAY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Relayed:
    region: str | None  # the region that took it; None when none of them serves its numbers
    failed: tuple[str, ...]  # regions that could not be asked (down, timed out, answered 5xx)


def parse_peers(text: str | None, own_region: str) -> dict[str, str]:
    """``"sa-east-1=https://.../webhooks/whatsapp,ap-south-1=..."`` -> {region: url}, this region left out."""
    peers: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        region, _, url = part.strip().partition("=")
        if not region or not url.startswith(("https://", "http://")):
            raise ValidationFailed(["webhook_peers"], f"{part.strip()!r} is not region=https://url")
        if region != own_region:
            peers[region] = url
    return peers


class WebhookRelay:
    def __init__(self, own_region: str, peers: Mapping[str, str], timeout_s: float = RELAY_TIMEOUT_S) -> None:
        self._own_region = own_region
        self._peers = dict(sorted(peers.items()))
        self._timeout_s = timeout_s

    @property
    def has_peers(self) -> bool:
        return bool(self._peers)

    def relay(self, raw_body: bytes, signature: str) -> Relayed:
        failed = []
        for region, url in self._peers.items():
            status = self._post(url, raw_body, signature)
            if status is not None and 200 <= status < 300:
                return Relayed(region, tuple(failed))
            if status is None or status >= 500 or status == 429:
                failed.append(region)
            # Anything else (421: not one of its numbers) and the next region is asked.
        return Relayed(None, tuple(failed))

    def _post(self, url: str, raw_body: bytes, signature: str) -> int | None:
        request = urllib.request.Request(
            url,
            data=raw_body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature,
                RELAYED_HEADER: self._own_region,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as reply:  # noqa: S310 - configured peers
                return reply.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, TimeoutError, OSError):
            return None
