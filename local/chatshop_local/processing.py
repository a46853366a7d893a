"""The record of processing activities (GDPR Art. 30), built from the template and the rollout.

Each table and bucket in ``template.yaml`` says in its ``Metadata.Privacy`` whose data it holds,
which personal data, why and for how long; where it is kept follows from its Condition and the
rollout (the regions that deploy it). The record is those facts side by side, so it cannot drift
from what is deployed: a test fails when a table or bucket has no entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatshop.platform.rollout import Rollout

from .conditions import deployed_resources

STORES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::S3Vectors::VectorBucket")
FIELDS = ("Subjects", "Holds", "Purpose", "Retention")


@dataclass(frozen=True)
class Entry:
    logical_id: str
    kind: str
    subjects: tuple[str, ...]
    holds: tuple[str, ...]
    purpose: str
    retention: str
    regions: tuple[str, ...]


class MissingEntry(ValueError):
    """A table or bucket the template declares without saying what it holds."""


def stores(template_body: Mapping[str, Any]) -> list[str]:
    return [lid for lid, res in template_body.get("Resources", {}).items() if res.get("Type") in STORES]


def problems(template_body: Mapping[str, Any]) -> list[str]:
    found = []
    for logical_id in stores(template_body):
        privacy = template_body["Resources"][logical_id].get("Metadata", {}).get("Privacy")
        if not isinstance(privacy, Mapping):
            found.append(f"{logical_id}: no Metadata.Privacy (Subjects, Holds, Purpose, Retention)")
            continue
        missing = [name for name in FIELDS if name not in privacy]
        if missing:
            found.append(f"{logical_id}: Metadata.Privacy lacks {', '.join(missing)}")
        elif bool(privacy["Subjects"]) != bool(privacy["Holds"]):
            found.append(f"{logical_id}: Subjects and Holds must both be empty or both be given")
    return found


def record(template_body: Mapping[str, Any], rollout: Rollout) -> list[Entry]:
    found = problems(template_body)
    if found:
        raise MissingEntry("; ".join(found))
    by_region = {
        region: deployed_resources(dict(template_body), {"AWS::Region": region}) for region in rollout.regions
    }
    entries = []
    for logical_id in stores(template_body):
        resource = template_body["Resources"][logical_id]
        privacy = resource["Metadata"]["Privacy"]
        entries.append(
            Entry(
                logical_id=logical_id,
                kind=resource["Type"].split("::")[-1],
                subjects=tuple(privacy["Subjects"]),
                holds=tuple(privacy["Holds"]),
                purpose=str(privacy["Purpose"]),
                retention=str(privacy["Retention"]),
                regions=tuple(sorted(r for r, deployed in by_region.items() if logical_id in deployed)),
            )
        )
    return entries


def markdown(entries: list[Entry], rollout: Rollout) -> list[str]:
    lines = [
        "# Record of processing activities (GDPR Art. 30)",
        "",
        "Controller: each shop, for its customers; chatshop processes on its behalf. Every store is",
        "deployed per home region and holds only the data of that region's countries:",
        "",
    ]
    lines += [
        f"- {region}: {', '.join(sorted(rollout.countries_in(region)))}" for region in sorted(rollout.regions)
    ]
    for entry in entries:
        lines += ["", f"## {entry.logical_id} ({entry.kind})", ""]
        if entry.holds:
            lines.append(f"- Whose data: {', '.join(entry.subjects)}")
            lines.append("- Personal data held:")
            lines += [f"  - {item}" for item in entry.holds]
        else:
            lines.append("- Personal data held: none")
        lines.append(f"- Purpose: {entry.purpose}")
        lines.append(f"- Kept: {entry.retention}")
        lines.append(f"- Regions: {', '.join(entry.regions) or 'none deploy it at present'}")
    return lines
