"""The embedded AWS applies concurrent writes to one item one at a time, as DynamoDB does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
from moto import mock_aws

from chatshop_local.emulator_dynamodb import WRITES, install_atomic_item_writes


def test_concurrent_increments_of_one_item_each_get_their_own_value():
    install_atomic_item_writes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

        def increment(_: int) -> int:
            answer = client.update_item(
                TableName="t",
                Key={"pk": {"S": "counter"}},
                UpdateExpression="ADD #n :one",
                ExpressionAttributeNames={"#n": "n"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            return int(answer["Attributes"]["n"]["N"])

        # When 8 threads add 1 to one counter 200 times in all
        with ThreadPoolExecutor(max_workers=8) as pool:
            seen = list(pool.map(increment, range(200)))
        # Then every add saw its own value, and none was lost
        assert sorted(seen) == list(range(1, 201))
        final = client.get_item(TableName="t", Key={"pk": {"S": "counter"}})["Item"]["n"]["N"]
        assert final == "200"


def test_installing_twice_wraps_each_write_once():
    from moto.dynamodb.models import DynamoDBBackend

    install_atomic_item_writes()
    wrapped = {name: getattr(DynamoDBBackend, name) for name in WRITES}
    install_atomic_item_writes()
    assert {name: getattr(DynamoDBBackend, name) for name in WRITES} == wrapped
    assert all(getattr(write, "_chatshop_atomic", False) for write in wrapped.values())
