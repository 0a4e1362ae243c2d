"""The forecast for council budgets: quarters of a year from go-live dates (hand-computed)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift.estate import Estate
from faellesdrift.metering.cli import bill_app
from faellesdrift.metering.errors import SettlementError
from faellesdrift.metering.forecast import forecast
from faellesdrift.model import MODEL_NAMES
from tests.conftest import REPO
from tests.metering.conftest import going_live, with_settlement

OPS = {"server.count": {"pool": "operations", "dkk": 100}}


def test_forecast_per_quarter_with_a_go_live_mid_february(estate: Estate) -> None:
    e = with_settlement(going_live(estate, ["horsens", "odder"], {"odder": date(2027, 2, 15)}),
                        {"operations": 12_000_000}, OPS)
    fc = forecast(e, 2027)
    assert not fc.errors and set(fc.amounts) == set(MODEL_NAMES)
    # 100,000,000 øre a month, per capita: January horsens alone; February odder takes
    # 14/28 days → 98,000 : 12,000 → 89,090,909.09… / 10,909,090.90… → the øre to odder;
    # from March 98,000 : 24,000 → 80,327,868.85… / 19,672,131.14… → the øre to horsens
    q1 = (100_000_000 + 89_090_909 + 80_327_869, 10_909_091 + 19_672_131)
    q = (3 * 80_327_869, 3 * 19_672_131)
    assert fc.amounts["per_capita"]["horsens"] == (q1[0], q[0], q[0], q[0])
    assert fc.amounts["per_capita"]["odder"] == (q1[1], q[1], q[1], q[1])
    for model in MODEL_NAMES:
        assert fc.total_ore(model) == 1_200_000_000
        assert fc.year_ore(model, "horsens") + fc.year_ore(model, "odder") == 1_200_000_000


def test_forecast_refuses_a_nonsense_year(estate: Estate) -> None:
    with pytest.raises(SettlementError, match="give a year such as 2027"):
        forecast(estate, 1800)


def test_forecast_cli_for_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_ROOT", str(REPO))
    app = typer.Typer()
    app.add_typer(bill_app, name="bill")
    out = CliRunner().invoke(app, ["bill", "forecast", "2027", "-o", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["go_live"]["viborg"] == "2027-03-01"
    per_capita = data["models"]["per_capita"]
    assert per_capita["tenants"]["viborg"]["2027-Q1"] != "0.00"  # live from March
    assert per_capita["tenants"]["odder"]["2027-Q1"] == "0.00"  # live from May
    assert per_capita["total"] == "48000000.00"  # the sample's yearly pools
