"""What the emulator's CloudFormation leaves out of a created stack, applied from the same template.

moto creates tables and buckets but ignores a table's ``TimeToLiveSpecification`` and a bucket's
``LifecycleConfiguration``. Retention rests on both, so after the stack is created they are set
through the services' own APIs, exactly as the template declares them, and a test or the expiry
sweeper reads them back from the services as it would on AWS.
"""

from __future__ import annotations

from typing import Any


def apply_skipped_properties(
    cfn_body: dict[str, Any], stack: Any, clients: Any, parameters: dict[str, str]
) -> None:
    values = {
        name: str(parameters.get(name, spec.get("Default", "")))
        for name, spec in cfn_body.get("Parameters", {}).items()
    }
    dynamodb, s3 = clients.client("dynamodb"), clients.client("s3")
    for logical_id, resource in cfn_body.get("Resources", {}).items():
        props = _resolved(resource.get("Properties", {}), values)
        if resource["Type"] == "AWS::DynamoDB::Table" and props.get("TimeToLiveSpecification"):
            spec = props["TimeToLiveSpecification"]
            dynamodb.update_time_to_live(
                TableName=stack.physical_id(logical_id),
                TimeToLiveSpecification={
                    "AttributeName": spec["AttributeName"],
                    "Enabled": bool(spec["Enabled"]),
                },
            )
        if resource["Type"] == "AWS::S3::Bucket" and props.get("LifecycleConfiguration"):
            rules = [_s3_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
            s3.put_bucket_lifecycle_configuration(
                Bucket=stack.physical_id(logical_id), LifecycleConfiguration={"Rules": rules}
            )


def _s3_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the shape of S3's API."""
    s3_rule: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
    prefix = rule.get("Prefix")
    s3_rule["Filter"] = {"Prefix": prefix} if prefix is not None else {}
    if "ExpirationInDays" in rule:
        s3_rule["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        s3_rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        s3_rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return s3_rule


def _resolved(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        return {key: _resolved(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(item, values) for item in node]
    return node
