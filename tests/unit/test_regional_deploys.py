"""Regional deploys: one deploy environment per home region, and each region deploys a feature's resources
only where the rollout has the feature live in one of its countries."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from chatshop.platform.rollout import Rollout
from chatshop_local.conditions import deployed_resources
from chatshop_local.regions import (
    condition_name,
    feature_regions,
    generated_block,
    referenced_features,
    region_plans,
    render_block,
    write_template,
)
from chatshop_local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_samconfig_has_one_deploy_environment_per_rollout_region():
    rollout = Rollout.from_yaml(REPO_ROOT / "infra" / "rollout.yaml")
    samconfig = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    environments = {name for name in samconfig if name not in ("version", "default")}
    assert environments == set(rollout.regions)
    for region in rollout.regions:
        deploy = samconfig[region]["deploy"]["parameters"]
        assert deploy["region"] == region
        assert deploy["stack_name"] == f"chatshop-{region}"



# --- what each region deploys follows the rollout -------------------------------------------------

ROLLOUT = REPO_ROOT / "infra" / "rollout.yaml"
TEMPLATE = REPO_ROOT / "template.yaml"

# Resources every region deploys whatever is live there: the shops context every feature builds on.
# A new resource is either listed here or carries a Deploys<Feature> condition (or one made of them).
SHARED = {
    "CoreLayer",
    "ShopsFunction",
    "ShopsFunctionLogGroup",
    "ShopsTable",
    "IdempotencyTable",
    "MediaBucket",
    "MediaEventsFunction",
    "CatalogImportFunction",
    "CatalogImportQueue",
    "CatalogImportDeadLetterQueue",
    "ShopCleanupFunction",
    "ShopCleanupQueue",
    "ShopCleanupDeadLetterQueue",
}


def _rollout() -> Rollout:
    return Rollout.from_yaml(ROLLOUT)


def _template_body() -> dict:
    return load_template(TEMPLATE).body


def test_the_templates_feature_conditions_are_the_ones_the_rollout_gives() -> None:
    text = TEMPLATE.read_text()
    rollout = _rollout()

    block = generated_block(text)

    assert block is not None, "template.yaml lost its generated conditions block"
    assert block == render_block(rollout, referenced_features(rollout, text)), (
        "template.yaml's Deploys<Feature> conditions differ from infra/rollout.yaml: "
        "run `chatshop regions --write-template`"
    )


def test_every_resource_is_shared_or_deployed_by_its_features_conditions() -> None:
    body = _template_body()
    conditions = body["Conditions"]
    features = {condition_name(f) for f in _rollout().features}

    def built_from_features(name: str) -> bool:
        if name in features:
            return True
        named = re.findall(r"'Condition': '(\w+)'|'Fn::If': \['(\w+)'", str(conditions[name]))
        return any(built_from_features(a or b) for a, b in named)

    unplaced = []
    for logical_id, resource in body["Resources"].items():
        condition = resource.get("Condition")
        if condition is None:
            if logical_id not in SHARED:
                unplaced.append(f"{logical_id}: no Condition (give it its feature's Deploys<Feature>)")
        elif not built_from_features(condition):
            unplaced.append(f"{logical_id}: Condition {condition} does not depend on a feature")
    for logical_id in SHARED:
        assert "Condition" not in body["Resources"].get(logical_id, {}), f"{logical_id} is shared"

    assert unplaced == []


@pytest.mark.parametrize("region", sorted(Rollout.from_yaml(REPO_ROOT / "infra" / "rollout.yaml").regions))
def test_a_region_deploys_a_features_resources_only_where_it_is_live(region: str) -> None:
    rollout = _rollout()
    body = _template_body()
    deployed = deployed_resources(body, {"AWS::Region": region})

    for feature in rollout.features:
        name = condition_name(feature)
        own = {lid for lid, res in body["Resources"].items() if res.get("Condition") == name}
        live_here = bool(rollout.live_countries(feature) & rollout.countries_in(region))
        if live_here:
            assert own <= deployed, f"{region} must deploy {feature}"
        else:
            assert not own & deployed, f"{region} deploys {sorted(own & deployed)}: {feature} is not live"
    assert deployed >= SHARED


def test_the_eu_region_runs_no_messenger_function_while_the_messenger_is_not_live_there() -> None:
    plans = {plan.region: plan for plan in region_plans(_rollout(), _template_body())}

    assert "WebhookFunction" not in plans["eu-west-1"].functions
    assert "InboundFunction" not in plans["eu-west-1"].functions
    assert {"WebhookFunction", "InboundFunction", "SenderFunction"} <= set(plans["sa-east-1"].functions)
    assert "SearchFunction" not in plans["sa-east-1"].functions
    assert "SearchFunction" in plans["us-east-1"].functions


def test_switching_a_feature_on_in_a_country_makes_its_home_region_deploy_it(tmp_path: Path) -> None:
    # Given the messenger switched on in Germany, in a copy of the rollout and the template
    rollout = _rollout()
    document = yaml.safe_load(ROLLOUT.read_text())
    document["features"]["messenger_shops"]["countries"].append("DE")
    widened = Rollout.from_document(document)
    template = tmp_path / "template.yaml"
    shutil.copy(TEMPLATE, template)

    # When the template's conditions are brought in step
    changed = write_template(template, widened)

    # Then eu-west-1 deploys the messenger, and nothing else of the template moved
    assert changed
    assert "eu-west-1" in feature_regions(widened, "messenger_shops")
    assert "eu-west-1" not in feature_regions(rollout, "messenger_shops")
    body = load_template(template).body
    assert "WebhookFunction" in deployed_resources(body, {"AWS::Region": "eu-west-1"})
    before, after = TEMPLATE.read_text(), template.read_text()
    assert before.replace(generated_block(before), "") == after.replace(generated_block(after), "")
    assert write_template(template, widened) is False
