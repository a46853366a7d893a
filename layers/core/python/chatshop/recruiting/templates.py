"""Whether a template may carry an offer: Meta's word on it, not ours. A broadcast's template must be
approved in WhatsApp Manager for the shop's business account in the MARKETING category, which only
Meta knows (a template's category is Meta's to set, and Meta may change it after review)."""

from __future__ import annotations

from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.graph_client import GraphClient
from chatshop.messaging.token_vault import TokenVault
from chatshop.platform.errors import Conflict, Unavailable

NO_NUMBER = "The shop has no WhatsApp number yet: connect one (PUT .../channels/whatsapp) first."


class MetaTemplates:
    def __init__(self, channels: ChannelStore, tokens: TokenVault, graph: GraphClient) -> None:
        self._channels = channels
        self._tokens = tokens
        self._graph = graph

    def is_marketing(self, shop_id: str, name: str, language: str) -> bool:
        channel = self._channels.for_shop(shop_id)
        if channel is None:
            raise Conflict(NO_NUMBER)
        token = self._tokens.token(channel.phone_number_id)
        if token is None:
            raise Conflict("The shop's WhatsApp number has no access token; connect it again.")
        answer = self._graph.message_templates(channel.waba_id, token, name)
        if answer.status in (400, 401, 403):
            # Meta refused the shop's token for its account (expired, revoked, another account's).
            raise Conflict("WhatsApp refused the shop's access token; connect the number again.")
        if not answer.ok:
            raise Unavailable("WhatsApp did not say which templates the shop has; try again shortly.")
        return any(
            isinstance(found, dict)
            and found.get("name") == name
            and found.get("language") == language
            and str(found.get("status", "")).upper() == "APPROVED"
            and str(found.get("category", "")).upper() == "MARKETING"
            for found in answer.body.get("data") or []
        )
