"""Serving ads from a function: the snapshot cache, the user's one read, the exhausted set and the
event signer, put together for :func:`chatshop.ads.decisions.decide`, and the reservation of the
capped ads it chose.

A decision's DynamoDB cost: one Query (the user's partition: consent, profile, flags, caps), and one
write only when it chose a capped ad for a known user (an UpdateItem, or one transaction for several
capped ads); the exhausted set is a cached read of seconds shared by all decisions of the sandbox.

The ads function, the search function and the shops function's marketplace lists each keep one
:class:`AdServer` per sandbox, so every surface decides with the same code and the same caches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.observability import get_logger
from chatshop.platform.rollout import Rollout

from .decision_models import ChosenAd, DecisionRequest, DecisionResponse, PlacementIn
from .decisions import DecisionInputs, curated_collection, decide, reservations
from .snapshot import SnapshotBucket, SnapshotCache

FEATURE = "shop_ads"
SPONSORED_IN_LISTS = 2


class AdServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def snapshots(self) -> SnapshotCache:
        return SnapshotCache(
            SnapshotBucket(aws.client("s3", self.settings), self.settings.require("ads_bucket"))
        )

    @cached_property
    def users(self) -> Any:
        from .users import UserStore

        return UserStore(self.settings)

    @cached_property
    def spend(self) -> Any:
        from .spend import SpendStore

        return SpendStore(self.settings)

    @cached_property
    def secrets(self) -> Any:
        from .secrets import AdsSecrets

        return AdsSecrets(self.settings)

    def decide(
        self,
        request: DecisionRequest,
        base_url: str,
        *,
        semantic: Mapping[str, float] | None = None,
        own_shop: str | None = None,
        now: datetime | None = None,
        with_collection: bool = False,
    ) -> DecisionResponse:
        from .tokens import sign_event
        from .users import is_special_category

        now = now or datetime.now(UTC)
        keys = self.secrets.event_keys()

        def sign(**fields: Any) -> str:
            return sign_event(keys, now=now, region=self.settings.region, **fields)

        user_key = request.user.key
        inputs = DecisionInputs(
            snapshot=self.snapshots.get(),
            user=self.users.load_user(user_key, now),
            exhausted=self.spend.exhausted_campaigns(now),
            now=now,
            sign=sign,
            event_url=lambda token: f"{base_url}/ads/events/{token}",
            is_special=is_special_category,
            semantic=semantic,
            own_shop=own_shop,
            controls_url=f"{base_url}/privacy/consents/{user_key}" if user_key else None,
        )
        response = self._decide(request, inputs, with_collection)
        capped = reservations(response, inputs.snapshot, user_key)
        if capped and user_key and not self.users.reserve(user_key, capped, now):
            # Another decision reached a cap meanwhile: this one is made again without capped ads,
            # and its first answer, whose tokens were never given out, is dropped.
            inputs.without_capped = True
            response = self._decide(request, inputs, with_collection)
        return response

    @staticmethod
    def _decide(request: DecisionRequest, inputs: DecisionInputs, with_collection: bool) -> DecisionResponse:
        response = decide(request, inputs)
        if with_collection:
            for placement in response.placements:
                if placement.type == "marketplace_feed":
                    placement.collection = curated_collection(
                        request.user.country, inputs, response.decision_id, request.user.key
                    )
                    break
        return response

    def sponsored(
        self,
        rollout: Rollout,
        region: str,
        country: str | None,
        placement: str,
        base_url: str,
        *,
        query: str | None = None,
        category: str | None = None,
        semantic: Mapping[str, float] | None = None,
        own_shop: str | None = None,
        user_key: str | None = None,
    ) -> list[ChosenAd]:
        """Up to two sponsored results for a list (search, a shop's products) where ads are live;
        none elsewhere, and none (logged) if serving fails: a list never fails for its ads."""
        if not country or not rollout.is_live(FEATURE, country, region):
            return []
        context: dict[str, Any] = {}
        if query:
            context["query"] = query[:200]
        if category:
            context["category"] = category[:250]
        try:
            request = DecisionRequest(
                placements=[
                    PlacementIn(id="sponsored", type=placement, count=SPONSORED_IN_LISTS, context=context)
                ],
                user={"country": country, "key": user_key},
            )
            return self.decide(request, base_url, semantic=semantic, own_shop=own_shop).placements[0].ads
        except Exception:  # noqa: BLE001 - the list is answered without its ads
            get_logger().exception("Sponsored results left out", extra={"placement": placement})
            return []


def base_url_of(headers: Mapping[str, str], context: Mapping[str, Any] | None) -> str:
    """The API's public base URL as the client called it (API Gateway's stage path included)."""
    host = headers.get("host") or headers.get("Host") or "localhost"
    proto = headers.get("x-forwarded-proto") or headers.get("X-Forwarded-Proto") or "http"
    stage = (context or {}).get("stage")
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{proto}://{host}{prefix}"
