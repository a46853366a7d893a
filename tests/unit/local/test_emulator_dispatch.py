"""The emulator's cheaper request dispatch and clock give what moto's own helpers give."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from moto.core import utils as moto_utils
from moto.core.responses import BaseResponse
from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response
from moto.sqs.responses import SQSResponse

from chatshop_local import emulator_server
from chatshop_local.emulator_server import _enrich_response, _method_names, unix_time, utcnow

# moto's own, as they were before anything was installed
_moto_enrich = BaseResponse._enrich_response
_moto_unix_time = emulator_server._moto_unix_time
_moto_utcnow = emulator_server._moto_utcnow


@pytest.mark.parametrize("handler", [DynamoHandler, SQSResponse, S3Response])
def test_a_response_class_has_the_action_methods_moto_lists(handler):
    assert _method_names(handler) == frozenset(moto_utils.method_names_from_class(handler))
    assert _method_names(handler) is _method_names(handler)  # listed once


@pytest.mark.parametrize(
    "body",
    [
        '{"Items":[{"pk":{"S":"<RequestId>not xml</RequestId>"}}]}',
        "<Response><RequestId>old</RequestId><Value>1</Value></Response>",
        "",
        b"\x00bytes",
    ],
)
def test_a_response_is_enriched_as_moto_enriches_it(body):
    ours = _enrich_response({"status": 201}, body)
    motos = _moto_enrich({"status": 201}, body)
    request_id = ours[0]["x-amzn-requestid"]
    assert re.fullmatch(r"[A-Za-z0-9]{52}", request_id)
    assert ours[0] == {"status": "201", "x-amzn-requestid": request_id}
    assert motos[0].keys() == ours[0].keys() and motos[0]["status"] == "201"
    # The body only differs by the request id moto wrote into it
    assert ours[1] == (
        motos[1].replace(motos[0]["x-amzn-requestid"], request_id) if isinstance(body, str) else body
    )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1),
        datetime(2026, 12, 2, 0, 53, 21, 700123),
        datetime(1969, 12, 31, 23, 59, 59, 999999),
        datetime(2038, 1, 19, 3, 14, 8, 1),
    ],
)
def test_the_clock_reads_as_motos(moment):
    assert unix_time(moment) == _moto_unix_time(moment)


def test_now_is_naive_utc_as_motos():
    before = _moto_utcnow()
    now = utcnow()
    assert now.tzinfo is None
    assert before <= now <= _moto_utcnow()
    assert abs(datetime.now(UTC).replace(tzinfo=None) - now) < timedelta(seconds=1)
    assert unix_time() == pytest.approx(_moto_unix_time(), abs=1)


def test_the_cheap_clock_replaces_motos_wherever_it_was_imported(monkeypatch):
    from moto.dynamodb.models import table
    from moto.sqs import models

    monkeypatch.setattr(table, "utcnow", _moto_utcnow)
    monkeypatch.setattr(models, "unix_time", _moto_unix_time)
    monkeypatch.setattr(moto_utils, "unix_time", _moto_unix_time)
    emulator_server.install_cheap_clock()
    assert table.utcnow is utcnow and models.unix_time is unix_time and moto_utils.unix_time is unix_time
