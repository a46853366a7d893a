"""Every home region of the rollout has a deploy environment, and nothing else does."""

from __future__ import annotations

import tomllib
from pathlib import Path

from chatshop.platform.rollout import Rollout

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
