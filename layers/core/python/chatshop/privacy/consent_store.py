"""Data access for consent: the current choice in the user's ads partition, the log beside it.

* ``pk=USER#<user_key>``, ``sk=CONSENT#<purpose>``: ``state``, ``recorded_at``, ``wording``,
  ``source``, ``country``, ``language``, ``version`` (bumped by every change; a profile write checks it);
* ``pk=CONSENTLOG#<user_key>``, ``sk=<recorded_at>#<purpose>#<nonce>``: every change, append-only,
  in its own partition so the decision's one Query of the user partition never reads the log.

A change, its log entry and (for a withdrawal or an objection) the profile's deletion are one
transaction: there is never a withdrawn consent with a profile left, nor a change without its proof.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from chatshop.ads.users import PROFILE_SK, user_pk
from chatshop.platform import aws
from chatshop.platform.config import Settings

from .consent import PURPOSES, ConsentChange, ConsentRecord, Consents

HISTORY_LIMIT = 50


def consent_sk(purpose: str) -> str:
    return f"CONSENT#{purpose}"


def log_pk(user_key: str) -> dict[str, str]:
    return {"S": f"CONSENTLOG#{user_key}"}


class ConsentStore:
    def __init__(self, settings: Settings) -> None:
        self.table = settings.require("ads_table")
        self.client = aws.client("dynamodb", settings)

    def record(self, user_key: str, change: ConsentChange, now: datetime) -> ConsentRecord:
        recorded_at = now.isoformat(timespec="microseconds")
        fields: dict[str, Any] = {
            "state": {"S": change.state},
            "recorded_at": {"S": recorded_at},
            "wording": {"S": change.wording},
            "source": {"S": change.source},
            "country": {"S": change.country},
        }
        if change.language:
            fields["language"] = {"S": change.language}
        names = {f"#{name}": name for name in fields}
        sets = ", ".join(f"#{name} = :{name}" for name in fields)
        remove = "" if change.language else " REMOVE #language"
        if not change.language:
            names["#language"] = "language"
        writes: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": user_pk(user_key), "sk": {"S": consent_sk(change.purpose)}},
                    "UpdateExpression": f"SET {sets} ADD #version :one{remove}",
                    "ExpressionAttributeNames": names | {"#version": "version"},
                    "ExpressionAttributeValues": {f":{k}": v for k, v in fields.items()}
                    | {":one": {"N": "1"}},
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "pk": log_pk(user_key),
                        "sk": {"S": f"{recorded_at}#{change.purpose}#{secrets.token_hex(4)}"},
                        "purpose": {"S": change.purpose},
                        **fields,
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if change.state != "given" and change.purpose == "personalised_ads":
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": user_pk(user_key), "sk": {"S": PROFILE_SK}},
                    }
                }
            )
        self.client.transact_write_items(TransactItems=writes)
        return ConsentRecord(
            purpose=change.purpose,
            state=change.state,
            recorded_at=datetime.fromisoformat(recorded_at),
            wording=change.wording,
            source=change.source,
            country=change.country,
            language=change.language,
        )

    def read(self, user_key: str) -> Consents:
        current = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": user_pk(user_key), ":prefix": {"S": "CONSENT#"}},
            ConsistentRead=True,
        ).get("Items", [])
        by_purpose = {item["sk"]["S"].removeprefix("CONSENT#"): _record(item) for item in current}
        log = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": log_pk(user_key)},
            ScanIndexForward=False,
            Limit=HISTORY_LIMIT,
        ).get("Items", [])
        consents = [
            by_purpose.get(purpose) or ConsentRecord(purpose=purpose, state="not_given")
            for purpose in PURPOSES
        ]
        return Consents(user_key=user_key, consents=consents, history=[_record(item) for item in log])


def _record(item: dict[str, Any]) -> ConsentRecord:
    purpose = item.get("purpose", {}).get("S") or item["sk"]["S"].removeprefix("CONSENT#")
    return ConsentRecord(
        purpose=purpose,
        state=item["state"]["S"],
        recorded_at=datetime.fromisoformat(item["recorded_at"]["S"]),
        wording=item.get("wording", {}).get("S"),
        source=item.get("source", {}).get("S"),
        country=item.get("country", {}).get("S"),
        language=item.get("language", {}).get("S"),
    )
