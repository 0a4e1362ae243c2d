"""Costs under every model; compliance summaries from per-host rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from faellesdrift.errors import ConfigError
from faellesdrift.reports.compliance import summarize
from faellesdrift.reports.costs import check_model, cost_view

SETTLEMENT = {"generated_at": "2026-11-27T10:00:00+00:00",
              "community": {"period": "2026-11", "model": "hybrid"},
              "tenants": {"odder": {"amounts": {"per_capita": 100, "hybrid": "150.50",
                                                "consumption": 90.25, "bogus": "x"}},
                          "aarhus": {"amounts": {"per_capita": 1000, "hybrid": 900}}}}


def test_cost_view_reads_numbers_and_decimal_strings_and_orders_models():
    v = cost_view(SETTLEMENT, ["odder", "aarhus", "samsoe"])
    assert v.models == ("per_capita", "consumption", "hybrid")  # the standard order
    assert v.chosen == "hybrid" and v.period == "2026-11"
    assert v.amounts["odder"]["hybrid"] == Decimal("150.50")
    assert "samsoe" not in v.amounts
    assert v.total("per_capita") == Decimal(1100)
    rows = {m: (a, d) for m, _, a, d in v.rows("odder")}
    assert rows["per_capita"] == (Decimal(100), Decimal("-50.50"))
    assert rows["hybrid"][1] == 0


def test_chosen_model_falls_back_and_can_be_overridden():
    assert cost_view(SETTLEMENT, ["odder"], chosen="per_capita").chosen == "per_capita"
    no_model = {**SETTLEMENT, "community": {"period": "2026-11"}}
    assert cost_view(no_model, ["odder"], default_model="consumption").chosen == "consumption"
    v = cost_view(SETTLEMENT, ["aarhus"], chosen="equal_plus_population")
    assert v.chosen_missing


def test_no_settlement_is_none():
    assert cost_view(None, ["odder"]) is None
    assert cost_view({"tenants": {}}, ["odder"]) is None


def test_an_unknown_model_name_is_refused():
    with pytest.raises(ConfigError, match="use one of per_capita, consumption, hybrid"):
        check_model("cheapest")
    assert check_model(None) is None


def _row(host, compliant, controls=(), status="ok"):
    return {"host": host, "status": status, "compliant": compliant,
            "controls": [{"control": c, "compliant": ok, "source": src}
                         for c, ok, src in controls]}


def test_summarize_counts_hosts_and_controls():
    entry = {"generated_at": "t", "ok": False, "hosts": [
        _row("a", True, [("net.ntp.servers", True, "standard"), ("net.aaa.tacacs", True,
                                                                   "standard")]),
        _row("b", False, [("net.ntp.servers", True, "X-EX-1"),
                          ("net.aaa.tacacs", False, "standard")]),
        _row("c", None, status="unreachable"),
        _row("gone", True),
    ]}
    s = summarize(entry, ["a", "b", "c", "d"])
    assert s.compliant == ("a",) and s.noncompliant == ("b",)
    assert s.unreached == ("c",) and s.not_checked == ("d",)
    assert s.stale == ("gone",) and s.ok is False
    assert s.pct == 25.0 and not s.complete
    by = {c.control: c for c in s.controls}
    assert (by["net.aaa.tacacs"].checked, by["net.aaa.tacacs"].compliant) == (2, 1)
    assert by["net.aaa.tacacs"].failing == ("b",)
    assert by["net.ntp.servers"].kept == 1 and by["net.ntp.servers"].pct == 100.0
    assert s.describe("device") == ("1 of 4 devices compliant, 1 not compliant, 1 not reached, "
                                    "1 not checked")


def test_summarize_without_entry_or_hosts():
    assert summarize(None, ["a"]) is None
    s = summarize({"hosts": []}, [])
    assert s.pct == 100.0 and s.complete and s.describe("server") == "no servers in the tenant file"
