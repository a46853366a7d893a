"""The data-safety rules every template resource keeps, as a check that names each breach."""

from __future__ import annotations

from typing import Any

_PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def policy_violations(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources", {})
    dead_letter_queues = _dead_letter_targets(resources)
    violations = []
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::SQS::Queue" and logical_id not in dead_letter_queues:
            violations += _queue_violations(logical_id, props)
        elif kind == "AWS::DynamoDB::Table":
            violations += _table_violations(logical_id, props)
        elif kind == "AWS::S3::Bucket":
            violations += _bucket_violations(logical_id, props)
    return violations


def _dead_letter_targets(resources: dict[str, Any]) -> set[str]:
    targets = set()
    for resource in resources.values():
        target = resource.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            attribute = target["Fn::GetAtt"]
            targets.add(attribute[0] if isinstance(attribute, list) else str(attribute).split(".")[0])
    return targets


def _queue_violations(logical_id: str, props: dict[str, Any]) -> list[str]:
    redrive = props.get("RedrivePolicy")
    if not redrive or "deadLetterTargetArn" not in redrive or int(redrive.get("maxReceiveCount", 0)) < 1:
        return [f"{logical_id}: a queue needs a RedrivePolicy to a dead-letter queue"]
    return []


def _table_violations(logical_id: str, props: dict[str, Any]) -> list[str]:
    recovery = props.get("PointInTimeRecoverySpecification", {})
    if recovery.get("PointInTimeRecoveryEnabled") is not True:
        return [f"{logical_id}: a table needs point-in-time recovery"]
    return []


def _bucket_violations(logical_id: str, props: dict[str, Any]) -> list[str]:
    violations = []
    block = props.get("PublicAccessBlockConfiguration", {})
    if not all(block.get(setting) is True for setting in _PUBLIC_ACCESS_BLOCKS):
        violations.append(f"{logical_id}: a bucket must block every kind of public access")
    if not props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration"):
        violations.append(f"{logical_id}: a bucket must encrypt its objects")
    return violations
