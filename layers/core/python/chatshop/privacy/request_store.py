"""Data access for privacy requests, in the messaging table (boto3).

| item                               | pk                 | sk                          |
|------------------------------------|--------------------|-----------------------------|
| a request                          | PRIVACY#<shop id>  | REQUEST#<request id>        |
| the open request of a kind, by who | PRIVACY#<shop id>  | OPEN#<type>#<pseudonym>     |

The open marker makes filing idempotent: a second request of the same kind for the same customer
while one is open is answered with that one. It goes when the request is done or failed, so the
customer can ask again later. No item holds the number: the pseudonym stands for it.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .requests import PrivacyRequest, RequestType


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _partition(shop_id: str) -> dict[str, str]:
    return _s(f"PRIVACY#{shop_id}")


def _request_key(shop_id: str, request_id: str) -> dict[str, Any]:
    return {"pk": _partition(shop_id), "sk": _s(f"REQUEST#{request_id}")}


def _open_key(shop_id: str, kind: RequestType, subject: str) -> dict[str, Any]:
    return {"pk": _partition(shop_id), "sk": _s(f"OPEN#{kind}#{subject}")}


class PrivacyRequestStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._conditional_failed = self._dynamodb.exceptions.ConditionalCheckFailedException

    def claim_open(self, request: PrivacyRequest) -> str:
        """Mark ``request`` as the customer's open one of its kind; the id of the open one, which is
        another's when one was open already."""
        key = _open_key(request.shop_id, request.type, request.subject)
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={**key, "request_id": _s(request.id)},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._conditional_failed:
            item = self._dynamodb.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            if item is None:  # closed in between: this one is the open one now
                return self.claim_open(request)
            return item["request_id"]["S"]
        return request.id

    def release_open(self, request: PrivacyRequest) -> None:
        """Let the customer file this kind again; a marker that is another request's stays."""
        with contextlib.suppress(self._conditional_failed):
            self._dynamodb.delete_item(
                TableName=self._table,
                Key=_open_key(request.shop_id, request.type, request.subject),
                ConditionExpression="request_id = :id",
                ExpressionAttributeValues={":id": _s(request.id)},
            )

    def save(self, request: PrivacyRequest) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **_request_key(request.shop_id, request.id),
                "record": _s(request.model_dump_json(exclude={"subject", "export_key"})),
                "subject": _s(request.subject),
                **({"export_key": _s(request.export_key)} if request.export_key else {}),
            },
        )

    def get(self, shop_id: str, request_id: str) -> PrivacyRequest | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_request_key(shop_id, request_id), ConsistentRead=True
        ).get("Item")
        return _request(item) if item else None

    def of_subject(self, shop_id: str, subject: str) -> list[PrivacyRequest]:
        """Every request the shop holds about one customer (a shop files few: one query, filtered)."""
        found: list[PrivacyRequest] = []
        start: dict[str, Any] = {}
        while True:
            page = self._dynamodb.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :request)",
                FilterExpression="subject = :subject",
                ExpressionAttributeValues={
                    ":pk": _partition(shop_id),
                    ":request": _s("REQUEST#"),
                    ":subject": _s(subject),
                },
                ConsistentRead=True,
                **start,
            )
            found += [_request(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _request(item: dict[str, Any]) -> PrivacyRequest:
    record = json.loads(item["record"]["S"])
    record["subject"] = item["subject"]["S"]
    if "export_key" in item:
        record["export_key"] = item["export_key"]["S"]
    return PrivacyRequest.model_validate(record)
