"""The relay's added latency: a WhatsApp webhook posted to its number's home region, against the same
kind of webhook posted to another region, which verifies it and relays it home unchanged.

Two local stacks (us-east-1 and sa-east-1, each with its embedded AWS and gateway, one Meta between
them: ``_stack.running_regions``); a Brazilian shop's number is connected in sa-east-1. The webhooks
are posted by the benchmark itself, to either region, as Meta would before the override or for a
field it never overrides. Each series posts signed text webhooks, each a new message, and
times Meta's side: from the POST to the 200. Prints both series and their difference at p50.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import running_regions  # noqa: E402
from _stats import percentile, summary  # noqa: E402

from chatshop_local.whatsapp_secrets import LOCAL_APP_SECRET  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "whatsapp" / "pywa__text.json"


def _call(url: str, body: dict | bytes, headers: dict[str, str]) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status, json.loads(reply.read() or b"{}")


def _put(url: str, body: dict, key: str) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200


def _brazilian_number(base: str) -> str:
    _, merchant = _call(
        f"{base}/merchants",
        {"name": "Bench", "email": "bench@example.com"},
        {"Content-Type": "application/json"},
    )
    key = merchant["api_key"]
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    _, shop = _call(
        f"{base}/shops",
        {"name": "Loja", "country": "BR", "currency": "BRL", "timezone": "America/Sao_Paulo"},
        auth,
    )
    number = str(10**14 + secrets.randbelow(10**14))
    channel = {
        "phone_number_id": number,
        "waba_id": str(10**14 + secrets.randbelow(10**14)),
        "display_phone_number": "+55 11 5555 0100",
        "access_token": "EAAG" + secrets.token_hex(24),
    }
    _put(f"{base}/shops/{shop['id']}/channels/whatsapp", channel, key)
    return number


def _webhook(number: str) -> bytes:
    document = json.loads(FIXTURE.read_bytes())
    value = document["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = number
    customer = "5511" + str(secrets.randbelow(10**8)).zfill(8)
    value["messages"][0].update(
        {"from": customer, "id": f"wamid.bench-{secrets.token_hex(8)}", "timestamp": str(int(time.time()))}
    )
    value["contacts"][0]["wa_id"] = customer
    return json.dumps(document).encode()


def _series(url: str, number: str, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        raw = _webhook(number)
        signature = "sha256=" + hmac.new(LOCAL_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        started = time.perf_counter()
        status, _ = _call(url, raw, {"Content-Type": "application/json", "X-Hub-Signature-256": signature})
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100, help="webhooks per series")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} before the stacks start")
    with running_regions(REPO / "template.yaml", ("us-east-1", "sa-east-1")) as stacks:
        brazil, us = stacks["sa-east-1"].url, stacks["us-east-1"].url
        number = _brazilian_number(brazil)
        _series(f"{brazil}/webhooks/whatsapp", number, 5)  # warm both paths
        _series(f"{us}/webhooks/whatsapp", number, 5)
        home = _series(f"{brazil}/webhooks/whatsapp", number, args.count)
        relayed = _series(f"{us}/webhooks/whatsapp", number, args.count)
    print(f"posted to its home region (sa-east-1)      {summary(home)}")
    print(f"posted to us-east-1, relayed to sa-east-1  {summary(relayed)}")
    added = percentile(relayed, 0.5) - percentile(home, 0.5)
    print(f"the relay adds {added:.1f} ms at p50 (a verification and one more HTTP round trip)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} after")


if __name__ == "__main__":
    main()
