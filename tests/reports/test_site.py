"""The report site: renders from the sample with no results (every section degrades), with
fixture results, escapes hostile free text, and every link points at a file that exists."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift.errors import ConfigError
from faellesdrift.reports.cli import report_cmd
from faellesdrift.reports.site import build_site
from tests.conftest import TODAY

PAGES = ("index.html", "coverage.html", "exceptions.html", "decisions.html")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def _text(site_dir: Path, rel: str) -> str:
    return (site_dir / rel).read_text(encoding="utf-8")


def _assert_links_resolve(site_dir: Path) -> None:
    for page in site_dir.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            if link.startswith(("mailto:", "#")):
                continue
            assert not re.match(r"^[a-z]+://", link), f"{page}: external link {link}"
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(site_dir)} links to missing {link}"


def test_sample_with_no_results_renders_and_every_section_says_what_to_run(settings):
    site = build_site(settings, today=TODAY, lang="en")
    d = site.directory
    assert site.index == settings.state_dir / "reports" / "index.html"
    for rel in (*PAGES, "report.json", "static/chart.umd.min.js", "static/site.js",
                "static/style.css", "static/chart.js.LICENSE.md"):
        assert (d / rel).is_file(), rel
    assert len(list((d / "tenants").glob("*.html"))) == 9
    index = _text(d, "index.html")
    assert "No network compliance run yet — run <code>faellesdrift network compliance</code>" \
        in index
    assert "No server verification yet — run <code>faellesdrift verify</code>" in index
    assert ("No settlement yet — run <code>faellesdrift bill --compare --period YYYY-MM</code>"
            in index)
    assert "35</span><span class=\"small\">days left to the 1 January 2027 deadline" in index
    odder = _text(d, "tenants/odder.html")
    for sentence in (("No network compliance run yet — run <code>faellesdrift network compliance "
                     "--tenant odder</code>"),
                     ("No server verification yet — run <code>faellesdrift verify --tenant "
                     "odder</code>"),
                     "No settlement yet", "No changes recorded since 28 October 2026.",
                     "Onboarding has not started — run <code>faellesdrift onboard odder</code>"):
        assert sentence in odder, sentence
    # only the readiness chart (from the tenant files) and the contracts chart exist
    assert 'data-spec="spec-readiness"' in index
    assert 'data-spec="spec-contracts"' in odder and "spec-costs" not in odder
    _assert_links_resolve(d)
    data = json.loads(_text(d, "report.json"))
    assert {t["tenant"] for t in data["tenants"]} == {p.stem for p in (d / "tenants").iterdir()}
    assert data["costs"] is None and data["sources"]["network.compliance"] is None


def test_fixture_results_fill_every_section(with_results):
    site = build_site(with_results, today=TODAY, lang="en")
    d = site.directory
    index = _text(d, "index.html")
    assert 'data-spec="spec-compliance"' in index and 'data-spec="spec-costs-all"' in index
    assert "Hybrid (KOMBIT: per citizen + consumption) (chosen)" in index
    assert "No network compliance run yet" not in index
    odder = _text(d, "tenants/odder.html")
    for needle in ("spec-network-controls", "spec-servers-controls", "spec-costs",
                   "net.aaa.tacacs", "odd-acce03", "srv.ssh.password_auth",
                   "Change board CAB-2026-311", "ops-anna", "/etc/ssh/sshd_config",
                   "Compared with the chosen model", "showback",
                   "pushed: tacacs server 10.250.0.49", "made of these shared services",
                   "<td>operations</td><td class=\"num\">DKK 250.50</td>",
                   "ssh: sshd_config (/etc/ssh/sshd_config)",
                   "Stack midt-dev: 23 resources", "10.27.0.0/16", "Lab: 12 of 12 hosts up"):
        assert needle in odder, needle
    assert "odd-dc02" not in odder.split('id="changes"')[1].split('id="onboarding"')[0], \
        "an event older than 30 days is not in 'changes in the last 30 days'"
    aarhus = _text(d, "tenants/aarhus.html")
    assert "Not reached" in aarhus and "TCP connection to 10.51.0.5:22 timed out" in aarhus
    decisions = _text(d, "decisions.html")
    assert "exception approved" in decisions and "Driftsudvalget (board decision 2026-14)" \
        in decisions
    assert "ops-old" in decisions  # the decision log keeps everything
    exceptions = _text(d, "exceptions.html")
    assert exceptions.count("<code>ODD-EX-002</code>") == 1 and "Expiring within 30 days" \
        in exceptions
    _assert_links_resolve(d)
    data = json.loads(_text(d, "report.json"))
    assert data["costs"]["chosen"] == "hybrid" and len(data["costs"]["models"]) == 4


def test_model_option_changes_the_chosen_model_and_rejects_unknown(with_results):
    site = build_site(with_results, today=TODAY, lang="en", model="per_capita")
    assert "Per capita (chosen)" in _text(site.directory, "index.html")
    with pytest.raises(ConfigError, match="--model 'nope'"):
        build_site(with_results, today=TODAY, lang="en", model="nope")


def test_scoped_to_one_tenant(settings, tmp_path):
    site = build_site(settings, today=TODAY, lang="en", tenants=["samsoe"],
                      output_dir=tmp_path / "out")
    assert [p.name for p in (site.directory / "tenants").iterdir()] == ["samsoe.html"]
    assert "This report covers only Samsø" in _text(site.directory, "index.html")
    with pytest.raises(ConfigError, match="no tenant 'nowhere'"):
        build_site(settings, today=TODAY, lang="en", tenants=["nowhere"])


def test_a_full_run_drops_pages_of_tenants_that_left(settings):
    build_site(settings, today=TODAY, lang="en")
    (settings.root / "tenants" / "samsoe.yaml").unlink()
    site = build_site(settings, today=TODAY, lang="en")
    assert not site.tenant_page("samsoe").exists() and site.tenant_page("odder").exists()


def test_an_invalid_community_still_renders_with_a_banner(settings):
    path = settings.root / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("expires: 2028-06-30", "expires: 2026-01-01"))
    bad = settings.root / "tenants" / "broken.yaml"
    bad.write_text("code: [unclosed\n")
    site = build_site(settings, today=TODAY, lang="en")
    index = _text(site.directory, "index.html")
    assert "The community definition does not validate" in index
    assert "tenants/broken.yaml" in index
    assert "exception.expired" in _text(site.directory, "tenants/odder.html")


def test_unreadable_results_and_audit_log_are_reported_not_fatal(settings):
    (settings.state_dir / "results").mkdir(parents=True)
    (settings.state_dir / "results" / "servers.verify.json").write_text("{broken")
    settings.audit_log.write_text('{"time": "2026-11-27T00:00:00+00:00"}\nnot json\n')
    site = build_site(settings, today=TODAY, lang="en")
    index = _text(site.directory, "index.html")
    assert "The server verification results cannot be read" in index
    assert "delete the file and re-run" in index
    assert "a line is not valid JSON" in _text(site.directory, "decisions.html")


def test_odd_but_well_formed_results_do_not_break_the_report(settings):
    """Results are data written by other programs: missing fields and odd values degrade."""
    from faellesdrift import results
    results.save(settings, "lab.status", {"tenants": {"odder": {"hosts": [{"host": "x"}]}}})
    results.save(settings, "network.compliance", {"tenants": {"odder": {"hosts": [
        {"host": "odd-core01", "compliant": "yes", "controls": "all good"},
        {"host": "odd-dist02", "controls": [None, {"control": "net.ntp.servers"}]}]}}})
    results.save(settings, "pulumi.outputs", {"tenants": {"odder": {"outputs": "n/a"}}})
    results.save(settings, "settlement", {"tenants": {"odder": {"amounts": {"hybrid": "?"}},
                                                      "samsoe": {"amounts": []}}})
    site = build_site(settings, today=TODAY, lang="en")
    page = site.tenant_page("odder").read_text(encoding="utf-8")
    assert "Lab: 0 of 1 hosts up" in page and "Stack —: ? resources" in page
    assert "0 of 5 devices compliant" in page
    assert "No settlement yet" in page


HOSTILE = '<script>alert("x")</script>'
HOSTILE_JS = '</script><script>alert(1)</script>'


@pytest.mark.parametrize("lang", ["da", "en"])
def test_hostile_free_text_is_escaped_everywhere(settings, lang):
    odder = settings.root / "tenants" / "odder.yaml"
    text = odder.read_text()
    text = text.replace("justification: Traffic-light controllers need the local GPS clock",
                        f"justification: '{HOSTILE}'")
    text = text.replace("supplier: Local firewall vendor",
                        "supplier: '<img src=x onerror=alert(2)>'")
    text = text.replace("site: Rådhuset", "site: '\"><svg onload=alert(3)>'")
    text = text.replace("name: IT-chef Odder", "name: '<b>IT</b> & co'")
    odder.write_text(text)
    from faellesdrift import results
    results.save(settings, "network.compliance", {"tenants": {"odder": {"hosts": [
        {"host": "odd-core01", "status": "failed", "compliant": False,
         "reason": "<iframe src=javascript:alert(4)>",
         "controls": [{"control": HOSTILE_JS, "compliant": False, "source": "standard",
                       "missing": ["<script>bad()</script>"]}]}]}}})
    settings.audit_log.parent.mkdir(parents=True, exist_ok=True)
    settings.audit_log.write_text(json.dumps({
        "time": f"{TODAY}T10:00:00+00:00", "who": "<u>mallory</u>", "command": "x",
        "tenant": "odder", "target": "odd-core01", "change": {"line": HOSTILE},
        "result": "changed"}) + "\n")
    site = build_site(settings, today=TODAY, lang=lang)
    everything = "\n".join(p.read_text(encoding="utf-8") for p in site.directory.rglob("*.html"))
    for raw in (HOSTILE, "<img src=x", "<svg onload", "<b>IT</b>", "<iframe", "<u>mallory",
                HOSTILE_JS, "<script>bad()"):
        assert raw not in everything, f"unescaped: {raw}"
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in everything
    assert "&lt;img src=x onerror=alert(2)&gt;" in everything
    assert "&lt;b&gt;IT&lt;/b&gt; &amp; co" in everything
    # the only <script> elements are the two bundled files and JSON chart data
    for page in site.directory.rglob("*.html"):
        tags = re.findall(r"<script[^>]*>", page.read_text(encoding="utf-8"))
        assert all('src="' in t or 'type="application/json"' in t for t in tags), (page, tags)
    # chart data is JSON with <, > and & escaped, so it cannot close its <script> element
    odder_page = site.tenant_page("odder").read_text(encoding="utf-8")
    spec = re.search(r'id="spec-network-controls">(.*?)</script>', odder_page, re.DOTALL).group(1)
    assert "\\u003c/script\\u003e" in spec and json.loads(spec)["labels"] == [HOSTILE_JS]


def test_report_command_prints_where_the_index_is(settings, monkeypatch):
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(settings.state_dir))
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("report")(report_cmd)
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--root", str(settings.root)])
    assert result.exit_code == 0, result.output
    assert str(settings.state_dir / "reports" / "index.html") in result.output.replace("\n", "")
    result = runner.invoke(app, ["report", "--root", str(settings.root), "--tenant", "odder",
                                 "--output-dir", str(settings.root / "out"), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["index"] == str(settings.root / "out" / "index.html")
    result = runner.invoke(app, ["report", "--root", str(settings.root), "--model", "x"])
    assert result.exit_code == 2 and "--model 'x' is not an allocation model" in result.output


@pytest.mark.parametrize("lang", ["da", "en"])
def test_words_from_results_are_data_not_format_strings(settings, lang):
    """A mode or model name in the results is shown as it is, even with % or markup in it."""
    from faellesdrift import results
    results.save(settings, "settlement", {
        "community": {"period": "2026-11", "mode": "100% <b>showback</b>", "model": "x%(y)s"},
        "tenants": {"odder": {"amounts": {"hybrid": "10.00", "x%(y)s": "12.00"}}}})
    site = build_site(settings, today=TODAY, lang=lang)
    page = site.tenant_page("odder").read_text(encoding="utf-8")
    assert "100% &lt;b&gt;showback&lt;/b&gt;" in page and "x%(y)s" in page


@pytest.mark.parametrize("lang", ["en", "da"])
def test_each_device_shows_its_last_successful_backup(settings, lang):
    from faellesdrift import results

    def run(at: str, rows: list[tuple[str, str, bool]], previous=None) -> dict:
        return {"generated_at": at, "tenants": {"odder": {"ok": all(r[2] for r in rows), "hosts": [
            {"host": h, "tenant": "odder", "platform": "cisco_ios", "status": status,
             "reason": "", "backed_up": ok,
             "last_success": at if ok else (previous or {}).get(h)} for h, status, ok in rows]}}}

    results.save(settings, "network.backup", run("2026-11-20T02:00:00+00:00", [
        ("odd-core01", "changed", True)]))
    results.save(settings, "network.backup", run("2026-11-26T02:00:00+00:00", [
        ("odd-core01", "unreachable", False), ("odd-dist02", "failed", False),
        ("odd-acce03", "changed", True)], previous={"odd-core01": "2026-11-20T02:00:00+00:00"}))
    page = _text(build_site(settings, today=TODAY, lang=lang).directory, "tenants/odder.html")
    row = {d: page[page.index(f"<td>{d}</td>"):].split("</tr>")[0]
           for d in ("odd-core01", "odd-dist02", "odd-acce03", "odd-fire04")}
    words = {"en": ("Last successful backup", "last run failed", "never backed up",
                    "no backup run yet"),
             "da": ("Seneste vellykkede backup", "seneste kørsel fejlede",
                    "aldrig sikkerhedskopieret", "ingen backup kørt endnu")}[lang]
    assert words[0] in page
    assert "20" in row["odd-core01"] and words[1] in row["odd-core01"]
    assert words[2] in row["odd-dist02"]
    assert "26" in row["odd-acce03"] and words[1] not in row["odd-acce03"]
    assert words[3] in row["odd-fire04"]
