"""Several home regions' stacks on this machine at once, with one Meta between them.

Each region runs its own stack (embedded AWS, gateway, functions) on free loopback ports, and lists
the others as its WebhookPeers. One Graph API emulator stands in for Meta for all of them, as there
is one Meta: its app callback URL is one region's webhook (``app_region``, as a deployed app has one
URL), every stack's functions call it, and it learns each stack's connected numbers. A number's
webhooks go where its business account's override points once a shop connected it, and to the app's
URL before that. For the two-region tests and the relay's benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .emulator import LOOPBACK, free_port
from .graph_emulator import GraphEmulator
from .invocations import Observer
from .stack import GRAPH_API_VERSION, WHATSAPP_WEBHOOK_PATH, LocalStack, StackOptions
from .whatsapp_secrets import local_app_secret


def webhook_url(api_port: int) -> str:
    return f"http://{LOOPBACK}:{api_port}{WHATSAPP_WEBHOOK_PATH}"


@dataclass
class RegionStacks:
    meta: GraphEmulator
    stacks: dict[str, LocalStack]

    def __getitem__(self, region: str) -> LocalStack:
        return self.stacks[region]

    def webhook_url(self, region: str) -> str:
        gateway = self.stacks[region].gateway
        assert gateway is not None
        return f"{gateway.url}{WHATSAPP_WEBHOOK_PATH}"

    def stop(self) -> None:
        for stack in reversed(list(self.stacks.values())):
            stack.stop(save=False)
        self.meta.stop()


def start_regions(
    template_path: Path,
    state_root: Path,
    regions: Sequence[str],
    *,
    app_region: str | None = None,
    unreachable: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
    observer: Callable[[str], Observer | None] | None = None,
) -> RegionStacks:
    """Start a stack per region (in order) and Meta's emulator; ``unreachable`` adds peers that are
    listed but not running (region -> webhook URL), ``observer`` gives each region's invocation
    observer. Stops whatever started if one stack fails to."""
    if not regions:
        raise ValueError("name at least one region")
    ports = {region: free_port() for region in regions}
    urls = {region: webhook_url(port) for region, port in ports.items()} | dict(unreachable or {})
    meta = GraphEmulator(
        LOOPBACK,
        free_port(),
        webhook_url(ports[app_region or regions[0]]),
        local_app_secret(),
        GRAPH_API_VERSION,
    )
    meta.start()
    started = RegionStacks(meta, {})
    try:
        for region in regions:
            peers = ",".join(f"{peer}={url}" for peer, url in urls.items() if peer != region)
            stack = LocalStack(
                StackOptions(
                    template_path=template_path,
                    state_dir=state_root / region,
                    region=region,
                    api_port=ports[region],
                    aws_port=free_port(),
                    graph_port=free_port(),
                    seed=False,
                    parameters={"Stage": "local", "WebhookPeers": peers, **(parameters or {})},
                    meta=meta,
                    on_invocation=observer(region) if observer else None,
                )
            )
            stack.start()
            started.stacks[region] = stack
    except BaseException:
        started.stop()
        raise
    return started
