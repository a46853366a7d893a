"""The data-safety rules every template resource keeps, as a check that names each breach."""

from __future__ import annotations

from typing import Any

_PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
_STREAM_EVENTS = ("DynamoDB", "Kinesis")


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
        elif kind == "AWS::Serverless::Function":
            violations += _stream_event_violations(logical_id, props)
    return violations


def _dead_letter_targets(resources: dict[str, Any]) -> set[str]:
    """Queues that are where failures end: redrive targets, and stream events' on-failure destinations."""
    targets = set()
    for resource in resources.values():
        props = resource.get("Properties", {})
        found = [props.get("RedrivePolicy", {}).get("deadLetterTargetArn")]
        found += [
            event.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            for event in props.get("Events", {}).values()
        ]
        targets |= {target for target in map(_get_att_target, found) if target}
    return targets


def _get_att_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        attribute = value["Fn::GetAtt"]
        return attribute[0] if isinstance(attribute, list) else str(attribute).split(".")[0]
    return None


def _queue_violations(logical_id: str, props: dict[str, Any]) -> list[str]:
    redrive = props.get("RedrivePolicy")
    if not redrive or "deadLetterTargetArn" not in redrive or int(redrive.get("maxReceiveCount", 0)) < 1:
        return [f"{logical_id}: a queue needs a RedrivePolicy to a dead-letter queue"]
    return []


def _stream_event_violations(logical_id: str, props: dict[str, Any]) -> list[str]:
    # Lambda retries a failing stream batch until its records expire (a day), holding up everything
    # behind it: a stream event gives up after a bounded number of tries and keeps what it gave up.
    violations = []
    for name, event in props.get("Events", {}).items():
        if event.get("Type") not in _STREAM_EVENTS:
            continue
        source = event.get("Properties", {})
        if not source.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
            violations.append(f"{logical_id}.{name}: a stream event needs an on-failure destination")
        if int(source.get("MaximumRetryAttempts", -1)) < 0:
            violations.append(f"{logical_id}.{name}: a stream event needs a MaximumRetryAttempts limit")
    return violations


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
