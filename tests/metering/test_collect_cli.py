"""`meter collect`, `meter show` and `bill` end to end on the sample community."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift.metering.cli import bill_app, meter_app
from faellesdrift.metering.store import open_store
from tests.conftest import REPO
from tests.metering.conftest import copy_going_live

app = typer.Typer()
app.add_typer(meter_app, name="meter")
app.add_typer(bill_app, name="bill")
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    # the sample's tenants go live from December 2026; here they are live all year, and
    # horsens goes live mid-November (15 of 30 days)
    root = tmp_path / "root"
    root.mkdir()
    copy_going_live(REPO, root, {"horsens": "2026-11-16"}, "2026-01-01")
    monkeypatch.setenv("FAELLESDRIFT_ROOT", str(root))
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("FAELLESDRIFT_DB", store_url)
    monkeypatch.setenv("COLUMNS", "200")
    return {"state": tmp_path / "state", "url": store_url, "root": root}


def run(*args: str) -> object:
    return runner.invoke(app, list(args), catch_exceptions=False)


def counts(url: str) -> dict:
    s = open_store(url)
    try:
        return s.counts()
    finally:
        s.close()


def test_collect_twice_then_compare_and_export(env: dict) -> None:
    first = run("meter", "collect", "--period", "2026-11", "-o", "json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    estate = next(c for c in data["collectors"] if c["source"] == "estate")
    assert estate["rows"] == estate["new"] > 1000
    assert any("no Pulumi outputs yet" in n for c in data["collectors"] for n in c["notes"])
    again = json.loads(run("meter", "collect", "--period", "2026-11", "-o", "json").stdout)
    assert all(c["new"] == 0 for c in again["collectors"])
    assert counts(env["url"])["rows"] == estate["rows"]

    shown = run("meter", "show", "--period", "2026-11")
    assert shown.exit_code == 0 and "server.vcpu" in shown.output

    out = run("bill", "--period", "2026-11", "--compare", "--explain", "odder",
              "--export", "csv")
    assert out.exit_code == 0, out.output
    for word in ("per_capita", "consumption", "hybrid", "equal_plus_population", "showback",
                 "4,000,000.00", "Odder (odder", "not charged: odd-file01 kept locally"):
        assert word in out.output
    exported = env["state"] / "exports" / "settlement-2026-11-compare.csv"
    with exported.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 * 9
    hybrid = [r for r in rows if r["model"] == "hybrid"]
    assert sum(int(r["amount_dkk"].replace(".", "")) for r in hybrid) == 400_000_000

    js = run("bill", "--period", "2026-11", "--model", "hybrid", "--export", "json", "-o", "json")
    bill = json.loads(js.stdout)
    assert bill["invoice"] is False and bill["total"] == "4000000.00"
    assert Path(bill["export"]).exists()
    assert bill["tenants"][0]["lines"]


def platform_outputs(env: dict, outputs: dict) -> None:
    """Stack midt.odder's outputs, written by the platform's one writer."""
    from faellesdrift import platform_outputs as po
    po.write(env["state"], "midt", po.StackOutputs("midt.odder", "odder", outputs))


def test_bad_pulumi_outputs_write_nothing(env: dict) -> None:
    platform_outputs(env, {"metering": [
        {"tenant": "odder", "meter": "platform.resource", "subject": "odd-vnet", "quantity": 3},
        {"tenant": "odder", "meter": "platform.cpu", "quantity": 1}]})
    out = run("meter", "collect", "--period", "2026-11")
    assert out.exit_code == 1
    assert "outputs-midt.json [midt.odder.metering[1].meter]: unknown meter 'platform.cpu'" \
        in out.output
    assert "nothing written" in out.output
    assert counts(env["url"])["rows"] == 0  # not even the estate's rows

    platform_outputs(env, {"metering": [
        {"tenant": "odder", "meter": "backup.gb", "quantity": -5}]})
    out = run("meter", "collect", "--period", "2026-11")
    assert out.exit_code == 1 and "metering[0].quantity]" in out.output
    assert "negative quantity" in out.output


def test_pulumi_and_audit_collectors(env: dict) -> None:
    platform_outputs(env, {"other": 1, "metering": [
        {"tenant": "odder", "meter": "platform.resource", "subject": "odd-vnet", "quantity": 3}]})
    log = env["state"] / "audit.jsonl"
    events = [
        {"time": "2026-11-03T10:00:00+00:00", "tenant": "odder", "target": "odd-core01",
         "result": "changed", "change": {"task": "ntp"}},
        {"time": "2026-11-03T10:00:01+00:00", "tenant": "odder", "target": "odd-core01",
         "result": "changed", "change": {"task": "banner"}},
        {"time": "2026-11-04T10:00:00+00:00", "tenant": "odder", "target": "odd-fil01",
         "result": "failed", "change": None},
        {"time": "2026-10-30T10:00:00+00:00", "tenant": "odder", "target": "x",
         "result": "changed", "change": {}},
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in events))
    data = json.loads(run("meter", "collect", "--period", "2026-11", "-o", "json").stdout)
    by = {c["source"]: c for c in data["collectors"]}
    assert by["pulumi:midt"]["new"] == 1
    assert by["audit"]["new"] == 2  # applied changes in November only
    data = json.loads(run("meter", "collect", "--period", "2026-11", "-o", "json").stdout)
    assert {c["source"]: c["new"] for c in data["collectors"]} == \
        {"estate": 0, "pulumi:midt": 0, "audit": 0}
    shown = json.loads(run("meter", "show", "--period", "2026-11", "-o", "json").stdout)
    assert shown["usage"]["odder"]["change.applied"] == 2
    assert shown["usage"]["odder"]["platform.resource"] == 3


def test_future_period_and_bad_period(env: dict) -> None:
    out = run("meter", "collect", "--period", "2026-12")
    assert out.exit_code == 1 and "is in the future (the estate's today is 2026-11-27)" in out.output
    out = run("bill", "--period", "2026-13", "--compare")
    assert out.exit_code == 2 and "is not a period" in out.output  # bad usage
    out = run("bill", "--period", "2026-11", "--model", "kombit")
    assert out.exit_code == 2 and "--model 'kombit' is not a model" in out.output
    assert run("bill", "close", "Nov-2026").exit_code == 2
    assert counts(env["url"])["rows"] == 0


def test_bill_without_usage_says_what_to_run(env: dict) -> None:
    out = run("bill", "--period", "2026-11", "--model", "consumption")
    assert out.exit_code == 1
    assert "meter collect --period 2026-11" in out.output


def test_bill_compare_saves_the_settlement_for_the_reports(env: dict) -> None:
    from faellesdrift import results
    from faellesdrift.model import MODEL_NAMES
    from faellesdrift.reports.costs import cost_view
    from faellesdrift.settings import Settings

    settings = Settings(root=REPO, state_dir=env["state"], cache_dir=env["state"] / "cache")
    assert run("meter", "collect", "--period", "2026-11").exit_code == 0
    one = run("bill", "--period", "2026-11", "--model", "hybrid")
    assert one.exit_code == 0, one.output
    assert results.load(settings, "settlement") is None  # one model is not a comparison
    out = run("bill", "--period", "2026-11", "--compare", "-o", "json")
    assert out.exit_code == 0, out.output
    saved = results.load(settings, "settlement")
    assert saved is not None
    community = saved["community"]
    assert community["period"] == "2026-11" and community["currency"] == "DKK"
    assert community["mode"] == "showback" and community["model"] in MODEL_NAMES
    assert community["total_dkk"] == "4000000.00"
    tenants = saved["tenants"]
    assert len(tenants) == 9
    odder = tenants["odder"]
    assert odder["period"] == "2026-11" and odder["population"] > 0 and odder["generated_at"]
    assert set(odder["amounts"]) == set(MODEL_NAMES) == set(odder["by_pool"])
    for model in MODEL_NAMES:
        assert sum(int(t["amounts"][model].replace(".", ""))
                   for t in tenants.values()) == 400_000_000
        assert sum(int(v.replace(".", "")) for v in odder["by_pool"][model].values()) == \
            int(odder["amounts"][model].replace(".", ""))
    view = cost_view(saved, sorted(tenants))  # what the transparency report reads
    assert view is not None and view.period == "2026-11" and view.models == MODEL_NAMES
    assert view.chosen == community["model"] and not view.chosen_missing
    assert view.total(view.chosen) == 4_000_000


def test_meter_collect_saves_usage_per_tenant_for_the_reports(env: dict) -> None:
    from faellesdrift import results
    from faellesdrift.settings import Settings

    settings = Settings(root=REPO, state_dir=env["state"], cache_dir=env["state"] / "cache")
    out = run("meter", "collect", "--period", "2026-11", "-o", "json")
    assert out.exit_code == 0, out.output
    saved = results.load(settings, "meter.collect")
    assert saved is not None and len(saved["tenants"]) == 9
    odder = saved["tenants"]["odder"]
    assert odder["ok"] is True and odder["period"] == "2026-11" and odder["rows"] > 0
    assert odder["meters"]["server.vcpu"] > 0 and odder["generated_at"]
    shown = json.loads(run("meter", "show", "--period", "2026-11", "-o", "json").stdout)
    assert odder["meters"] == shown["usage"]["odder"]  # the same figures as `meter show`


def test_danish_csv_for_finance(env: dict) -> None:
    assert run("meter", "collect", "--period", "2026-11").exit_code == 0
    out = run("bill", "--period", "2026-11", "--model", "per_capita", "--export", "csv",
              "--locale", "da")
    assert out.exit_code == 0, out.output
    path = env["state"] / "exports" / "settlement-2026-11-per_capita.da.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads æøå right
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert len(rows) == 9 and rows[0]["name"] == "Aarhus"
    amounts = [r["amount_dkk"] for r in rows]
    assert all("," in a and "." not in a for a in amounts)  # decimal comma, no points
    assert sum(int(a.replace(",", "")) for a in amounts) == 400_000_000
    for r in rows:  # pools and components each add up to the amount
        pools = sum(int(v.replace(",", "")) for k, v in r.items() if k.startswith("pool_"))
        comps = sum(int(v.replace(",", "")) for k, v in r.items()
                    if k.startswith("component_"))
        assert pools == comps == int(r["amount_dkk"].replace(",", ""))
    data = json.loads(run("bill", "--period", "2026-11", "--model", "hybrid", "-o", "json")
                      .stdout)

    def ore(text: str) -> int:
        return int(text.replace(".", ""))

    for comp, total in data["components"].items():  # every column sums to its total row
        assert sum(ore(t["by_component"].get(comp, "0.00")) for t in data["tenants"]) == \
            ore(total)
    for pool, total in data["pools"].items():
        assert sum(ore(t["by_pool"][pool]) for t in data["tenants"]) == ore(total)
    assert ore(data["components"]["fixed"]) > 0 and ore(data["total"]) == 400_000_000
    horsens = next(t for t in data["tenants"] if t["tenant"] == "horsens")
    assert horsens["basis"] == "live from 2026-11-16: 15/30 days"
    bad = run("bill", "--period", "2026-11", "--export", "csv", "--locale", "fr")
    assert bad.exit_code == 2 and "--locale 'fr'" in bad.output


def test_quarter_close_show_and_correction(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run("bill", "--period", "2026-Q4")
    assert out.exit_code == 1
    assert "2026-Q4 is the sum of its closed months" in out.output
    assert "2026-12 in the future" in out.output and "Traceback" not in out.output
    out = run("bill", "close", "2026-11")
    assert out.exit_code == 1 and "still open" in out.output

    monkeypatch.setenv("FAELLESDRIFT_TODAY", "2027-01-04")
    for month in ("2026-10", "2026-11", "2026-12"):
        assert run("meter", "collect", "--period", month).exit_code == 0
    for month in ("2026-10", "2026-11"):
        out = run("bill", "close", month, "--model", "per_capita", "-o", "json")
        assert out.exit_code == 0, out.output
    assert run("bill", "--period", "2026-Q4").exit_code == 1
    assert run("bill", "close", "2026-12", "--model", "per_capita").exit_code == 0
    nov = json.loads(run("bill", "show", "--period", "2026-11", "-o", "json").stdout)
    assert nov["closed"] is True and nov["total"] == "4000000.00"
    q4 = json.loads(run("bill", "--period", "2026-Q4", "-o", "json").stdout)
    months = [json.loads(run("bill", "show", "--period", m, "-o", "json").stdout)
              for m in ("2026-10", "2026-11", "2026-12")]

    def ore(text: str) -> int:
        return int(text.replace(".", ""))

    assert ore(q4["total"]) == sum(ore(m["total"]) for m in months) == 1_200_000_000
    for i, t in enumerate(q4["tenants"]):
        assert ore(t["amount"]) == sum(ore(m["tenants"][i]["amount"]) for m in months)
    exported = json.loads(run("bill", "--period", "2026-11", "--export", "json",
                              "-o", "json").stdout)
    assert len(exported["statements"]) == 9
    odder_statement = json.loads(Path(next(p for p in exported["statements"]
                                           if p.endswith("-odder.json"))).read_text())
    assert odder_statement["closed"] is True and odder_statement["period"] == "2026-11"
    assert len(odder_statement["tenant"]["statement_sha256"]) == 64
    assert odder_statement["tenant"]["amount"] == next(
        t["amount"] for t in nov["tenants"] if t["tenant"] == "odder")
    audit = [json.loads(line) for line in (env["state"] / "audit.jsonl").read_text()
             .splitlines()]
    assert sum(ev["command"] == "bill close" for ev in audit) == 3 * 9

    # a tenant file changes after December is closed: December stays, January corrects
    odder = env["root"] / "tenants" / "odder.yaml"
    odder.write_text(odder.read_text().replace("population: 24000", "population: 34000"))
    dec = json.loads(run("bill", "show", "--period", "2026-12", "-o", "json").stdout)
    assert dec == months[2]
    monkeypatch.setenv("FAELLESDRIFT_TODAY", "2027-02-02")
    assert run("meter", "collect", "--period", "2027-01").exit_code == 0
    jan = json.loads(run("bill", "--period", "2027-01", "--model", "per_capita",
                         "-o", "json").stdout)
    corrections = {t["tenant"]: t["corrections"] for t in jan["tenants"]}
    assert [c["for_period"] for c in corrections["odder"]] == ["2026-10", "2026-11", "2026-12"]
    assert all("population 24,000 → 34,000" in c["what"] for c in corrections["odder"])
    assert sum(ore(c["amount"]) for cs in corrections.values() for c in cs) == 0
    assert jan["total"] == "4000000.00"


def test_the_settlement_result_says_what_is_closed_and_how_each_amount_is_made(
        env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from faellesdrift import results, settlement_result
    from faellesdrift.settings import Settings

    settings = Settings(root=env["root"], state_dir=env["state"],
                        cache_dir=env["state"] / "cache")
    monkeypatch.setenv("FAELLESDRIFT_TODAY", "2026-12-05")
    for month in ("2026-11", "2026-12"):
        assert run("meter", "collect", "--period", month).exit_code == 0
    assert run("bill", "close", "2026-11", "--model", "hybrid").exit_code == 0
    closed = json.loads(run("bill", "show", "--period", "2026-11", "-o", "json").stdout)
    saved = settlement_result.read(results.load(settings, "settlement"))
    assert saved is not None and saved.period == "2026-11" and saved.state == "closed"
    assert [(m.period, m.state) for m in saved.months] == [("2026-11", "closed")]

    assert run("bill", "--period", "2026-12", "--compare").exit_code == 0
    saved = settlement_result.read(results.load(settings, "settlement"))
    assert saved is not None and saved.version == settlement_result.VERSION
    assert (saved.period, saved.state) == ("2026-12", "estimate")
    assert [(m.period, m.state) for m in saved.months] == [("2026-11", "closed"),
                                                           ("2026-12", "estimate")]
    assert saved.closed_months == ["2026-11"] and saved.estimated_months == ["2026-12"]
    horsens = saved.tenants["horsens"]
    for model, amount in horsens.amounts.items():  # every component adds up to its amount
        assert sum(horsens.components[model].values()) == amount
        assert sum(r.amount for r in horsens.reasons[model] if r.amount is not None) == amount
    assert set(horsens.components["hybrid"]) == {"fixed", "usage"}
    assert set(horsens.components["equal_plus_population"]) == {"equal", "population"}
    assert any("fixed — 98,000 citizens" in r.text for r in horsens.reasons["hybrid"])
    assert horsens.usage["server.count"] > 0 and horsens.basis == "live since 2026-11-16"
    # the closed month is read from its statements: the figures and hashes of `bill show`
    (st,) = horsens.closed
    shown = next(t for t in closed["tenants"] if t["tenant"] == "horsens")
    assert (st.period, st.model, str(st.amount)) == ("2026-11", "hybrid", shown["amount"])
    assert st.sha256 == shown["statement_sha256"] and st.closed_at.startswith("2026-12-05")
    assert {k: str(v) for k, v in st.components.items()} == shown["by_component"]
    assert st.basis == "live from 2026-11-16: 15/30 days"


def test_the_settlement_result_reads_defensively() -> None:
    from decimal import Decimal

    from faellesdrift import settlement_result

    assert settlement_result.read(None) is None
    old = settlement_result.read({"community": {"period": "2026-11", "model": "hybrid"},
                                  "tenants": {"odder": {"amounts": {"hybrid": "12.50",
                                                                    "per_capita": "NaN"},
                                                        "closed": "not a list",
                                                        "reasons": {"hybrid": [{"x": 1}]}},
                                              "bad": [1, 2]}})
    assert old is not None and old.version == 1 and old.state == "estimate"
    assert set(old.tenants) == {"odder"}
    odder = old.tenants["odder"]
    assert odder.amounts == {"hybrid": Decimal("12.50")} and odder.closed == ()
    assert odder.reasons == {"hybrid": ()} and odder.period == "2026-11"
    result = settlement_result.SettlementResult(
        "2026-12", "estimate", "DKK", "showback", "hybrid",
        {"odder": settlement_result.TenantSettlement(
            "2026-12", "estimate", 24000, {"hybrid": Decimal("1.05")},
            components={"hybrid": {"fixed": Decimal("1.00"), "usage": Decimal("0.05")}},
            reasons={"hybrid": (settlement_result.Reason("servers", "fixed", "why",
                                                         Decimal("1.00")),)},
            closed=(settlement_result.ClosedStatement(
                "2026-11", "hybrid", "showback", Decimal("2.00"), {"fixed": Decimal("2.00")},
                {"servers": Decimal("2.00")}, sha256="ab" * 32),))},
        (settlement_result.MonthState("2026-11", "closed", "hybrid", Decimal("2.00")),
         settlement_result.MonthState("2026-12", "estimate")))
    again = settlement_result.read(json.loads(json.dumps(result.to_payload())))
    assert again is not None
    assert again.tenants == result.tenants and again.months == result.months
    assert settlement_result.money(-1205) == "-12.05"
