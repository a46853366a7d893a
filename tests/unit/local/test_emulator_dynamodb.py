"""The embedded AWS applies concurrent writes to one item one at a time, as DynamoDB does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

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


def test_a_cancelled_transaction_leaves_its_items_and_stream_as_they_were():
    install_atomic_item_writes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="s",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        client.put_item(TableName="s", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "5"}})
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables["s"]

        def records() -> int:
            return len(table.stream_shard.items)

        def take(quantity: int, new_key: str) -> dict:
            return {
                "TransactItems": [
                    {
                        "Put": {
                            "TableName": "s",
                            "Item": {"pk": {"S": new_key}, "sk": {"S": "1"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": "s",
                            "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                            "UpdateExpression": "SET n = n - :q",
                            "ConditionExpression": "n >= :q",
                            "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
                        }
                    },
                ]
            }

        # When the second item's condition fails after the first was written
        try:
            client.transact_write_items(**take(9, "b"))
        except client.exceptions.TransactionCanceledException as exc:
            reasons = [reason["Code"] for reason in exc.response["CancellationReasons"]]
        # Then nothing of it is left: not the put, not a stream record
        assert reasons == ["None", "ConditionalCheckFailed"]
        assert "Item" not in client.get_item(TableName="s", Key={"pk": {"S": "b"}, "sk": {"S": "1"}})
        assert records() == 1
        # And one that holds is applied whole
        client.transact_write_items(**take(2, "c"))
        assert client.get_item(TableName="s", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]["n"] == {
            "N": "3"
        }
        assert records() == 3
