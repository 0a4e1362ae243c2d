"""Open the generated report in headless Debian chromium: charts render, the console has no
errors, and a screenshot of every page is saved under <state>/reports/screenshots/.

Talks to chromium over the DevTools protocol on a pipe (tests/reports/cdp.py), so
it needs nothing but the `chromium` package.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from faellesdrift import results
from faellesdrift.reports.site import build_site
from tests.conftest import TODAY
from tests.reports.cdp import Browser, Page
from tests.reports.conftest import write_fixture_results

pytestmark = pytest.mark.browser

CHARTS = """(() => {
  const out = [];
  for (const c of document.querySelectorAll('canvas[data-spec]')) {
    const chart = window.Chart ? window.Chart.getChart(c) : null;
    let painted = 0;
    if (c.width && c.height) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { painted += 1; } }
    }
    const bars = chart ? chart.data.datasets.reduce(
      (n, _, i) => n + chart.getDatasetMeta(i).data.filter(b => b.width > 0 || b.height > 0
        ).length, 0) : 0;
    out.push({id: c.id, chart: !!chart, width: c.width, height: c.height, painted, bars});
  }
  return {drawn: document.documentElement.dataset.charts,
          failed: document.documentElement.dataset.chartsFailed, charts: out,
          title: document.title};
})()"""


def _chromium() -> str:
    found = os.environ.get("FAELLESDRIFT_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Debian's chromium is not installed: `apt-get install -y chromium` "
                    "(./dev setup installs it), or set FAELLESDRIFT_CHROMIUM to its path")
    return found


@pytest.fixture
def browser(tmp_path):
    b = Browser(_chromium(), tmp_path / "chromium-profile", tmp_path / "chromium.log")
    try:
        yield b
    finally:
        b.close()


def _visit(browser: Browser, page_file: Path, shot: Path) -> dict:
    page = Page(browser)
    page.goto(page_file.as_uri())
    page.wait_for("document.documentElement.dataset.charts !== undefined")
    info = page.evaluate(CHARTS)
    page.screenshot(shot)
    info["problems"] = page.settle()
    return info


def _check_site(browser: Browser, site_dir: Path, pages: list[str], min_charts: dict[str, int]):
    shots = site_dir / "screenshots"
    for rel in pages:
        shot = shots / (rel.replace("/", "-").removesuffix(".html") + ".png")
        info = _visit(browser, site_dir / rel, shot)
        assert info["problems"] == [], f"{rel}: console errors: {info['problems']}"
        assert info["failed"] == "0", f"{rel}: {info}"
        charts = info["charts"]
        assert int(info["drawn"]) == len(charts) >= min_charts.get(rel, 0), f"{rel}: {info}"
        for c in charts:
            assert c["chart"] and c["width"] > 100 and c["height"] > 100, f"{rel}: {c}"
            assert c["painted"] > 500, f"{rel}: chart {c['id']} drew nothing: {c}"
            assert c["bars"] > 0, f"{rel}: chart {c['id']} has no visible bars: {c}"
        assert shot.stat().st_size > 10_000, f"{shot} looks empty"


@pytest.mark.parametrize("lang", ["da", "en"])
def test_report_with_results_renders_charts_without_console_errors(settings, browser, lang):
    write_fixture_results(settings)
    site = build_site(settings, today=TODAY, lang=lang)
    pages = ["index.html", "tenants/odder.html", "tenants/aarhus.html", "coverage.html",
             "exceptions.html", "decisions.html"]
    _check_site(browser, site.directory, pages,
                {"index.html": 3, "tenants/odder.html": 4, "tenants/aarhus.html": 4})
    shots = sorted(p.name for p in (site.directory / "screenshots").iterdir())
    assert shots == ["coverage.png", "decisions.png", "exceptions.png", "index.png",
                     "tenants-aarhus.png", "tenants-odder.png"]


#: What the browser shows (innerText), and the tick labels Chart.js drew on the cost chart.
SHOWN = """(() => {
  const c = document.getElementById('chart-costs');
  const chart = c && window.Chart ? window.Chart.getChart(c) : null;
  const scale = chart ? chart.scales.x : null;
  return {lang: document.documentElement.lang, text: document.body.innerText,
          ticks: scale ? scale.ticks.map((t, i) => scale.getLabelForValue ?
                                          String(scale.options.ticks.callback(t.value, i, []))
                                          : String(t.label)) : []};
})()"""


def test_the_danish_page_shows_danish_numbers_dates_and_chart_ticks(settings, browser):
    write_fixture_results(settings)
    site = build_site(settings, today=TODAY, lang="da")
    page = Page(browser)
    page.goto(site.tenant_page("odder").as_uri())
    page.wait_for("document.documentElement.dataset.charts !== undefined")
    shown = page.evaluate(SHOWN)
    assert page.settle() == []
    assert shown["lang"] == "da"
    text = shown["text"].replace("\xa0", " ")
    assert re.search(r"\b\d{1,3}(\.\d{3})+,\d{2} kr\.", text), "no 1.234,56 kr. on the page"
    assert "27. november 2026" in text and "Udgifter" in text
    assert not re.search(r"DKK \d", text), "an English amount on the Danish page"
    # the x axis of the cost chart: Danish thousands separators and kroner
    assert shown["ticks"] and all(t.endswith(" kr.") for t in shown["ticks"]), shown["ticks"]
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+ kr\.", t.replace("\xa0", " "))
               for t in shown["ticks"]), shown["ticks"]


def test_report_without_results_renders_the_charts_it_has(settings, browser):
    site = build_site(settings, today=TODAY, lang="da")
    _check_site(browser, site.directory, ["index.html", "tenants/samsoe.html"],
                {"index.html": 1, "tenants/samsoe.html": 1})


def test_the_console_check_catches_errors(settings, browser, tmp_path):
    """The test must be able to fail: a page with a broken script and a missing file."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html><body><script src='missing.js'></script>"
                   "<script>console.error('boom'); undefined_function();</script>"
                   "</body></html>")
    page = Page(browser)
    page.goto(bad.as_uri())
    problems = " | ".join(page.settle())
    assert "boom" in problems and "undefined_function" in problems
    assert "missing.js" in problems


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_statement_prints_on_one_a4_page(settings, browser, lang):
    """Chromium's print-to-PDF of a municipality's statement: one A4 page, no console errors."""
    import base64

    from faellesdrift import results
    from tests.reports.test_statements import settlement

    results.save(settings, "settlement", settlement().to_payload())
    site = build_site(settings, today=TODAY, lang=lang)
    page = Page(browser)
    page.goto((site.directory / "statements" / "odder.html").as_uri())
    pdf = base64.b64decode(page.send("Page.printToPDF", {
        "preferCSSPageSize": True, "printBackground": True,
        "displayHeaderFooter": False})["data"])
    assert page.settle() == []
    out = site.directory / "screenshots" / f"statement-odder-{lang}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    assert len(pages) == 1, f"{out}: {len(pages)} pages, want 1"
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert box and (round(float(box[1])), round(float(box[2]))) == (595, 842)  # A4 in points
    text = page.evaluate("document.body.innerText")
    assert ("Opgørelse af udgifter" if lang == "da" else "Statement of shared operations") \
        in text


#: The patch-state section and the charts the page drew, as the browser shows them.
PATCH_STATE = """(() => {
  const section = document.getElementById('patch-state');
  let text = '';
  for (let n = section; n && !(n !== section && n.tagName === 'H2'); n = n.nextElementSibling) {
    text += n.innerText + '\\n';
  }
  const drawn = Array.from(document.querySelectorAll('canvas'))
    .filter(c => window.Chart && window.Chart.getChart(c)).map(c => c.id);
  return {text: text, drawn: drawn, page: document.body.innerText};
})()"""


def test_the_danish_municipality_page_shows_patch_state_with_a_screenshot(settings, browser,
                                                                          tmp_path):
    """The page a municipality's IT lead reads: costs with the why, exceptions with their
    expiry, coverage gaps, patch state and end of life, the compliance and patch trends;
    a full-page screenshot of it is kept in the test's tmp dir."""
    fixture = write_fixture_results(settings)
    odder = dict(fixture["settlement"]["tenants"]["odder"])
    hybrid = float(odder["amounts"]["hybrid"])
    fixed = round(hybrid * 0.4, 2)
    odder["components"] = {"hybrid": {"fixed": f"{fixed:.2f}", "usage": f"{hybrid - fixed:.2f}"}}
    odder["reasons"] = {"hybrid": [
        {"pool": "servers", "component": "fixed", "amount_dkk": f"{fixed:.2f}",
         "text": "DKK 25 per citizen per year for 24,000 citizens, one month"},
        {"pool": "servers", "component": "usage", "amount_dkk": f"{hybrid - fixed:.2f}",
         "text": "12 vCPU of 190 in the community this month"}]}
    results.save(settings, "settlement", {"tenants": {"odder": odder}})
    site = build_site(settings, today=TODAY, lang="da")
    page = Page(browser)
    page.goto(site.tenant_page("odder").as_uri())
    page.wait_for("document.documentElement.dataset.charts !== undefined")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    shown = page.evaluate(PATCH_STATE)
    assert page.settle() == []
    text = shown["text"].replace("\xa0", " ")
    assert text.startswith("Opdateringsstatus og end of life")
    assert "1 server(e) har sikkerhedsopdateringer, der venter på at blive installeret." in text
    assert re.search(r"odd-file01\s+sikkerhedsopdateringer venter\s+Debian 12\.15 \(bookworm\)"
                     r"\s+sudo 1\.9\.13p3-1\+deb12u4\+fdlab1", text), text
    assert re.search(r"odd-dc02\s+genstart påkrævet.*ja \(libc6\)", text), text
    assert "30. juni 2028" in text and "udgivet 1. november 2024, 756 dage gammel" in text
    assert "chart-patch-history" in shown["drawn"] and "chart-compliance-history" in \
        shown["drawn"], shown["drawn"]
    whole = shown["page"].replace("\xa0", " ")
    for needle in ("Udgifter", "DKK 25 per citizen per year", "Lokale undtagelser", "Udløber",
                   "Dækningshuller", "Overholdelse over tid"):
        assert needle in whole, needle
    shot = tmp_path / "odder-da.png"
    page.screenshot(shot)
    assert shot.stat().st_size > 100_000, f"{shot} looks empty"
