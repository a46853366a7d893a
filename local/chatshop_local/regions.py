"""What each region deploys, from the rollout: the template's feature Conditions and `chatshop regions`.

``infra/rollout.yaml`` says where each feature is live; ``template.yaml`` says which resources make up a
feature, by the Condition a resource carries (``Deploys<Feature>``, or a condition built only from
those). The bodies of the ``Deploys<Feature>`` conditions are generated here from the rollout, between
two marker comments in the template, so the list of a feature's regions is written in one place:
``chatshop regions --write-template`` rewrites them and a test fails when they differ. A resource
without a Condition is shared: every region deploys it. Only the features the template refers to get
a condition (CloudFormation's linter refuses unused ones): a feature served only by shared resources,
such as the marketplace in the shops function, has none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatshop.platform.rollout import Rollout

from .conditions import deployed_resources

BEGIN = "  # BEGIN conditions generated from infra/rollout.yaml by `chatshop regions --write-template`"
END = "  # END generated conditions"
_BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END) + r"\n", re.DOTALL)
_FUNCTION = "AWS::Serverless::Function"
_NEVER = "none"  # no AWS region is called this: the condition of a feature live nowhere


class TemplateOutOfStep(ValueError):
    """The template lacks the generated block, so it cannot be brought in step automatically."""


def condition_name(feature: str) -> str:
    """``messenger_shops`` -> ``DeploysMessengerShops``."""
    return "Deploys" + "".join(part.capitalize() for part in feature.split("_"))


def feature_regions(rollout: Rollout, feature: str) -> list[str]:
    """The regions that deploy ``feature``: those with a country where it is live for some shops."""
    live = rollout.live_countries(feature)
    return sorted(region for region in rollout.regions if live & rollout.countries_in(region))


def referenced_features(rollout: Rollout, template_text: str) -> list[str]:
    """The features whose ``Deploys<Feature>`` condition the template uses outside the generated block."""
    block = generated_block(template_text) or ""
    rest = template_text.replace(block, "")
    return sorted(f for f in rollout.features if re.search(rf"\b{condition_name(f)}\b", rest))


def feature_conditions(rollout: Rollout, features: list[str]) -> dict[str, Any]:
    """Each given feature's ``Deploys<Feature>`` condition, as CloudFormation's JSON form."""
    conditions: dict[str, Any] = {}
    for feature in features:
        regions = feature_regions(rollout, feature) or [_NEVER]
        tests = [{"Fn::Equals": [{"Ref": "AWS::Region"}, region]} for region in regions]
        conditions[condition_name(feature)] = tests[0] if len(tests) == 1 else {"Fn::Or": tests}
    return conditions


def render_block(rollout: Rollout, features: list[str]) -> str:
    """The generated block of the template's Conditions, as YAML text with its markers."""
    lines = [BEGIN]
    for feature in features:
        regions = feature_regions(rollout, feature)
        name = condition_name(feature)
        where = ", ".join(regions) if regions else "no region: live nowhere yet"
        lines.append(f"  # {feature}: {where}")
        tests = [f"!Equals [!Ref AWS::Region, {region}]" for region in (regions or [_NEVER])]
        if len(tests) == 1:
            lines.append(f"  {name}: {tests[0]}")
        else:
            lines.append(f"  {name}: !Or")
            lines.extend(f"    - {test}" for test in tests)
    lines.append(END)
    return "\n".join(lines) + "\n"


def generated_block(template_text: str) -> str | None:
    match = _BLOCK.search(template_text)
    return match.group(0) if match else None


def write_template(template_path: Path, rollout: Rollout) -> bool:
    """Bring the template's generated conditions in step with the rollout; True if it changed."""
    text = template_path.read_text(encoding="utf-8")
    current = generated_block(text)
    if current is None:
        raise TemplateOutOfStep(f"{template_path} has no line {BEGIN.strip()!r} under Conditions")
    wanted = render_block(rollout, referenced_features(rollout, text))
    if current == wanted:
        return False
    template_path.write_text(text.replace(current, wanted), encoding="utf-8")
    return True


@dataclass(frozen=True)
class RegionPlan:
    """What one region serves and deploys."""

    region: str
    countries: tuple[str, ...]
    features: tuple[str, ...]  # live in at least one of its countries
    resources: tuple[str, ...]  # logical ids of the resources it deploys
    functions: tuple[str, ...]


def region_plans(rollout: Rollout, template_body: Mapping[str, Any]) -> list[RegionPlan]:
    plans = []
    for region in sorted(rollout.regions):
        deployed = deployed_resources(template_body, {"AWS::Region": region})
        resources = template_body.get("Resources", {})
        plans.append(
            RegionPlan(
                region=region,
                countries=tuple(sorted(rollout.countries_in(region))),
                features=tuple(f for f in sorted(rollout.features) if region in feature_regions(rollout, f)),
                resources=tuple(sorted(deployed)),
                functions=tuple(sorted(lid for lid in deployed if resources[lid].get("Type") == _FUNCTION)),
            )
        )
    return plans


def matrix_lines(rollout: Rollout, template_body: Mapping[str, Any]) -> list[str]:
    """The features x countries x regions matrix and, per region, what it deploys."""
    regions = sorted(rollout.regions)
    columns = {region: sorted(rollout.countries_in(region)) for region in regions}
    spans = {region: max(len(region), 4 * len(columns[region])) + 2 for region in regions}
    width = max(len(feature) for feature in rollout.features) + 2

    def row(label: str, cells: Mapping[str, str]) -> str:
        return (f"{label:<{width}}" + "".join(f"{cells[r]:<{spans[r]}}" for r in regions)).rstrip()

    lines = [
        row("", {r: r for r in regions}),
        row("", {r: "".join(f"{c:<4}" for c in columns[r]) for r in regions}),
    ]
    for feature in sorted(rollout.features):
        marks = {r: "".join(f"{_mark(rollout, feature, c):<4}" for c in columns[r]) for r in regions}
        lines.append(row(feature, marks))
    lines += ["", "● live   ◐ live for a share of the shops   · off", ""]
    shared = _shared(template_body)
    for plan in region_plans(rollout, template_body):
        features = ", ".join(plan.features) or "no feature live"
        lines.append(f"{plan.region} ({', '.join(plan.countries)}): {features}")
        own = len(set(plan.resources) - shared)
        lines.append(f"  deploys {len(plan.resources)} resources: {len(shared)} shared, {own} its own")
        lines.append(f"  functions: {', '.join(plan.functions) or 'none'}")
    return lines


def _mark(rollout: Rollout, feature: str, country: str) -> str:
    share = rollout.shops_percent(feature, country)
    if share == 100:
        return "●"
    return f"◐{share}" if share else "·"


def _shared(template_body: Mapping[str, Any]) -> set[str]:
    return {lid for lid, res in template_body.get("Resources", {}).items() if "Condition" not in res}

