"""The record of processing (GDPR Art. 30) comes from the template: every table and bucket has its entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatshop.platform.rollout import Rollout
from chatshop_local.processing import MissingEntry, markdown, problems, record, stores
from chatshop_local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]


def _body() -> dict:
    return load_template(REPO_ROOT / "template.yaml").body


def _rollout() -> Rollout:
    return Rollout.from_yaml(REPO_ROOT / "infra" / "rollout.yaml")


def test_every_table_and_bucket_of_the_template_says_what_personal_data_it_holds() -> None:
    assert problems(_body()) == []


def test_the_record_lists_each_store_with_the_regions_that_deploy_it() -> None:
    entries = {entry.logical_id: entry for entry in record(_body(), _rollout())}

    assert set(entries) == set(stores(_body()))
    assert entries["MessagingTable"].holds and "customers" in entries["MessagingTable"].subjects
    # The messenger is not live in the EU, so no EU stack holds a message
    assert "eu-west-1" not in entries["MessagingTable"].regions
    assert set(entries["ShopsTable"].regions) == set(_rollout().regions)
    text = "\n".join(markdown(list(entries.values()), _rollout()))
    assert "## MessagingTable (Table)" in text and "MessageRetentionDays" in text


def test_a_new_bucket_without_an_entry_fails_the_record() -> None:
    body = _body()
    body["Resources"]["ReceiptsBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {}}

    assert problems(body) == ["ReceiptsBucket: no Metadata.Privacy (Subjects, Holds, Purpose, Retention)"]
    with pytest.raises(MissingEntry, match="ReceiptsBucket"):
        record(body, _rollout())


def test_personal_data_without_whose_it_is_is_refused() -> None:
    body = _body()
    body["Resources"]["MediaBucket"]["Metadata"]["Privacy"]["Subjects"] = []

    assert problems(body) == ["MediaBucket: Subjects and Holds must both be empty or both be given"]
