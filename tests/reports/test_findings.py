"""What misled a reader of the report: contracts whose sign was unclear, servers shown as
shared before go-live, Pulumi outputs as raw JSON, readiness scores without their reasons."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from faellesdrift import results
from faellesdrift.reports.site import build_site
from tests.conftest import TODAY


def _plain(html: str) -> str:
    html = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.DOTALL)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(html: str, start: str, end: str) -> str:
    return html.split(f'id="{start}"')[1].split(f'id="{end}"')[0]


def test_contracts_spell_out_the_sign_in_both_languages(settings):
    en = _plain(build_site(settings, today=TODAY, lang="en").tenant_page("odder")
                .read_text(encoding="utf-8"))
    # 636,712.33 to term − (250,000 exit fee + 9,474.28 shared charge) = 377,238.05 saved
    assert "Ending early saves DKK 377,238.05 against keeping it to term." in en
    assert "DKK 259,474.28 DKK 250,000.00 exit fee + DKK 9,474.28 shared charge after exit" in en
    assert "if ended early)" not in en  # the old "(+DKK … if ended early)" wording
    da = _plain(build_site(settings, today=TODAY, lang="da").tenant_page("odder")
                .read_text(encoding="utf-8"))
    assert ("Opsigelse før tid sparer 377.238,05 kr. i forhold til at køre kontrakten til udløb."
            in da.replace("\xa0", " "))


def test_shared_only_from_go_live(settings, tmp_path):
    page = build_site(settings, today=TODAY, lang="en").tenant_page("odder")
    scope = _plain(_section(page.read_text(encoding="utf-8"), "scope", "assets"))
    assert "servers planned Odder until go-live; shared from then 1 May 2027" in scope
    assert "servers shared" not in scope and "network shared" not in scope
    later = build_site(settings, today=date(2027, 5, 1), lang="en",
                       output_dir=tmp_path / "later").tenant_page("odder")
    scope = _plain(_section(later.read_text(encoding="utf-8"), "scope", "assets"))
    assert "servers shared the shared company" in scope and "until go-live" not in scope


def test_coverage_page_lists_what_is_only_planned_with_dates(settings):
    site = build_site(settings, today=TODAY, lang="en")
    coverage = _plain((site.directory / "coverage.html").read_text(encoding="utf-8"))
    assert ("endpoints Odder high 1 January 2030 endpoints: only planned to move to the "
            "community on 1 January 2030") in coverage
    assert "monitoring: only planned to move to the community on 1 January 2031" in coverage
    assert "servers: shared from the go-live on 1 May 2027" in coverage


def test_pulumi_outputs_are_tables_not_json(settings):
    results.save(settings, "pulumi.outputs", {"tenants": {"odder": {
        "ok": True, "stack": "odder", "resources": 3,
        "outputs": {"devices": {"odd-acce03": {"address": "10.27.0.3", "platform": "cisco_ios"},
                                "odd-core01": {"address": "10.27.0.1", "vlan": 100}},
                    "tenant_prefix": "10.27.0.0/16",
                    "pools": {"servers": "10.27.10.0/24", "clients": "10.27.64.0/20"}}}}})
    page = build_site(settings, today=TODAY, lang="en").tenant_page("odder")
    html = page.read_text(encoding="utf-8")
    platform = _section(html, "assets", "compliance-network")
    assert "{&#34;" not in platform and '{"' not in platform, "raw JSON in the page"
    text = _plain(platform)
    assert "devices (2 created) Name address platform vlan" in text
    assert "odd-acce03 10.27.0.3 cisco_ios" in text and "odd-core01 10.27.0.1 100" in text
    assert "pools.clients 10.27.64.0/20" in text and "tenant_prefix 10.27.0.0/16" in text


def test_every_score_shows_where_its_points_come_from(with_results):
    site = build_site(with_results, today=TODAY, lang="en")
    index = _plain((site.directory / "index.html").read_text(encoding="utf-8"))
    assert "Why this score" in index
    # Odder: 20 + 20 + 16 (4 of 5 devices) + 18 (11 of 12 servers) + 0 (contracts) + 10
    assert ("Odder 1 May 2027 155 84 Tenant file is valid: 20/20 Every server reached and "
            "verified: 20/20 Network devices comply with the baseline: 16/20 — 4 of 5 devices "
            "compliant, 1 not compliant") in index
    assert "No local contract blocks the migration: 0/10 — 2 of 2 local contract(s) end after " \
           "the go-live 1 May 2027" in index
