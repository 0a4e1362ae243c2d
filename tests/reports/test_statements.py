"""Costs that explain themselves: closed months and estimates, the components of every amount
with their basis and reasons, and a one-page statement per municipality to print and file."""

from __future__ import annotations

import re
from decimal import Decimal

from faellesdrift import results
from faellesdrift.reports.costs import cost_view
from faellesdrift.reports.site import build_site
from faellesdrift.settlement_result import (
    ClosedStatement,
    Correction,
    MonthState,
    Reason,
    SettlementResult,
    TenantSettlement,
)
from tests.conftest import TODAY

D = Decimal
SHA = "3fc4b66ad3e7" + "0" * 52


def _closed(period: str, amount: str, fixed: str, usage: str, **extra) -> ClosedStatement:
    return ClosedStatement(period, "hybrid", "showback", D(amount),
                           {"fixed": D(fixed), "usage": D(usage)}, {"servers": D(amount)},
                           (Reason("servers", "fixed", "servers: fixed — 24,000 citizens",
                                   D(fixed)),),
                           closed_at=f"{period}-28T09:00:00+00:00".replace("-28T", "-30T"),
                           who="finance-bot", sha256=SHA, **extra)


def settlement() -> SettlementResult:
    """Two closed months and an open one, for Odder and Aarhus, as metering writes it."""
    odder = TenantSettlement(
        "2026-11", "estimate", 24000,
        {"per_capita": D("1000.00"), "hybrid": D("1234.50"),
         "equal_plus_population": D("1100.00")},
        by_pool={"hybrid": {"servers": D("1000.00"), "operations": D("234.50")}},
        components={"per_capita": {"population": D("1000.00")},
                    "hybrid": {"fixed": D("500.00"), "usage": D("734.50")},
                    "equal_plus_population": {"equal": D("330.00"),
                                              "population": D("770.00")}},
        reasons={"hybrid": (
            Reason("servers", "fixed", "servers: fixed — 24,000 citizens × DKK 25.00",
                   D("500.00")),
            Reason("servers", "", "  server.vcpu: 12 vCPU-months × DKK 120.00"),
            Reason("servers", "usage", "servers: variable, by consumption", D("734.50")))},
        usage={"server.vcpu": D(12)}, basis="live since 2026-09-01",
        closed=(_closed("2026-09", "1200.00", "500.00", "700.00"),
                _closed("2026-10", "1300.25", "500.00", "800.25",
                        corrections=(Correction("2026-09", D("-12.05"),
                                                "population 24,000 → 24,100"),))))
    aarhus = TenantSettlement("2026-11", "estimate", 372000, {"hybrid": D("9000.00")},
                              components={"hybrid": {"fixed": D("9000.00")}})
    return SettlementResult(
        "2026-11", "estimate", "DKK", "showback", "hybrid", {"odder": odder, "aarhus": aarhus},
        (MonthState("2026-09", "closed", "hybrid", D("2400.00")),
         MonthState("2026-10", "closed", "hybrid", D("2500.00")),
         MonthState("2026-11", "estimate", "hybrid", D("10234.50"))))


def _text(html: str) -> str:
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_cost_view_reads_components_reasons_and_closed_months():
    v = cost_view(settlement().to_payload(), ["odder", "aarhus"])
    assert v is not None and v.state == "estimate" and v.chosen == "hybrid"
    assert [m.period for m in v.closed_months] == ["2026-09", "2026-10"]
    assert [m.period for m in v.estimated_months] == ["2026-11"]
    rows = {m: (parts, amount) for m, parts, amount in v.components("odder")}
    assert set(rows) == {"per_capita", "hybrid", "equal_plus_population"}
    for parts, amount in rows.values():  # every row adds up to its amount
        assert sum(parts.values()) == amount
    assert v.used_components("odder") == ["fixed", "equal", "population", "usage"]
    assert [r.amount for r in v.reasons("odder")] == [D("500.00"), None, D("734.50")]
    assert [st.period for st in v.closed("odder")] == ["2026-09", "2026-10"]
    assert v.closed("aarhus") == () and v.components("samsoe") == []


def test_the_costs_section_says_what_is_closed_and_how_the_amount_is_made(settings):
    results.save(settings, "settlement", settlement().to_payload())
    site = build_site(settings, today=TODAY, lang="en")
    text = _text((site.directory / "tenants" / "odder.html").read_text(encoding="utf-8"))
    assert "estimate — the month is open and may still change" in text
    assert "Closed months (signed statements): 2026-09, 2026-10." in text
    assert "Estimates (open months): 2026-11." in text
    assert "What each amount is made of" in text
    assert "Hybrid (KOMBIT: per citizen + consumption) DKK 500.00 DKK 0.00 DKK 0.00 " \
           "DKK 734.50 DKK 1,234.50" in text
    assert "fixed : a fixed price per citizen per year" in text
    assert "servers: fixed — 24,000 citizens × DKK 25.00" in text  # the --explain reasons
    assert "bill --explain odder" in text
    assert "2026-10 Hybrid (KOMBIT: per citizen + consumption) (showback) DKK 1,300.25" in text
    assert "goes live 1 May 2027: not billed for this month" in text
    assert "statements/odder.html" in (site.directory / "tenants" / "odder.html").read_text()
    data = (site.directory / "report.json").read_text(encoding="utf-8")
    assert '"closed_months": [' in data and '"state": "estimate"' in data


def test_a_printable_statement_per_municipality_in_danish(settings):
    results.save(settings, "settlement", settlement().to_payload())
    site = build_site(settings, today=TODAY, lang="da")
    page = site.directory / "statements" / "odder.html"
    assert page in site.pages
    html = page.read_text(encoding="utf-8")
    text = _text(html)
    assert '<html lang="da">' in html and 'class="statement"' in html
    assert "Opgørelse af udgifter til fælles drift" in text
    assert "Odder Kommune (kommunekode 0727)" in text and "24.000" in text
    # the closed months with their components, and the total of the closed months
    assert "2026-09 Hybrid (KOMBIT: pr. indbygger + forbrug)" in text
    assert "500,00\xa0kr. 700,00\xa0kr. 1.200,00\xa0kr." in text
    assert "I alt for de lukkede måneder 1.000,00\xa0kr. 1.500,25\xa0kr. 2.500,25\xa0kr." in text
    assert "Bogført i 2026-10 for 2026-09: −12,05\xa0kr." in text  # the correction, signed
    assert "Skøn for den åbne måned 2026-11" in text and "1.234,50\xa0kr." in text
    assert SHA in text and "finance-bot" in text
    assert "Kontrolleret af Odder Kommune, økonomi (dato, underskrift)" in text
    # Aarhus has no closed month: nothing to file, said so; a municipality the settlement
    # does not cover gets no statement
    aarhus = _text((site.directory / "statements" / "aarhus.html").read_text(encoding="utf-8"))
    assert "Ingen måned er lukket for Aarhus endnu" in aarhus
    assert not (site.directory / "statements" / "samsoe.html").exists()
    css = (site.directory / "static" / "style.css").read_text(encoding="utf-8")
    assert "@page { size: A4;" in css and "@media print" in css


def test_statements_of_tenants_that_left_are_dropped(settings):
    results.save(settings, "settlement", settlement().to_payload())
    site = build_site(settings, today=TODAY, lang="en")
    stale = site.directory / "statements" / "gone.html"
    stale.write_text("old", encoding="utf-8")
    build_site(settings, today=TODAY, lang="en")
    assert not stale.exists() and (site.directory / "statements" / "odder.html").exists()


def test_a_compliance_trend_per_municipality(settings, monkeypatch):
    import json

    def host(name, ok):
        return {"host": name, "status": "ok", "compliant": ok}

    for day, ok in (("2026-11-24", False), ("2026-11-25", True)):
        monkeypatch.setattr(results, "now", lambda d=day: f"{d}T08:00:00+00:00")
        results.save(settings, "network.compliance",
                     {"tenants": {"odder": {"hosts": [host("odd-core01", ok),
                                                      host("odd-fire04", True)]}}})
    site = build_site(settings, today=TODAY, lang="en")
    html = site.tenant_page("odder").read_text(encoding="utf-8")
    spec = json.loads(html.split('id="spec-compliance-history">')[1].split("</script>")[0])
    assert spec["labels"] == ["2026-11-24", "2026-11-25"]
    assert spec["datasets"][0]["data"] == [50.0, 100.0]  # network devices
    assert spec["datasets"][1]["data"] == [None, None]  # no server verification yet
    other = site.tenant_page("samsoe").read_text(encoding="utf-8")
    assert "No compliance history yet" in other
