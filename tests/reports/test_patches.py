"""Patch state in the report: per server from the last `servers facts` run, the community
summary, and the trend from the results history — in Danish and English."""

from __future__ import annotations

import json
import re

from faellesdrift import results
from faellesdrift.reports import patches
from faellesdrift.reports.site import build_site
from tests.conftest import TODAY


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    end = page.find("<h2 ", start + 1)
    return _text(page[start:end if end > 0 else None])


def test_rows_read_the_facts_and_name_what_was_not_gathered():
    entry = {"hosts": [
        {"host": "a", "status": "ok", "reboot_required": False, "pending": [
            {"package": "sudo", "candidate": "2", "security": True},
            {"package": "tzdata", "candidate": "3", "security": False}],
         "security_ends": "2028-06-30", "eol_status": "security only", "kernel_age_days": 3},
        {"host": "b", "status": "ok", "reboot_required": True, "pending": []},
        {"host": "c", "status": "unreachable", "reason": "ssh: connection refused"},
        {"host": "d", "status": "ok", "reboot_required": False, "pending": [],
         "kernel_age_days": True, "uptime_days": "soon"},  # wrong types are not trusted
    ]}
    rows = patches.rows([("a", "debian12"), ("b", "debian12"), ("c", "debian12"),
                         ("d", "debian12"), ("e", "debian12"), ("w", "windows2022")], entry)
    by = {r.host: r for r in rows}
    assert by["a"].state == "security updates pending"
    assert by["a"].security == ("sudo 2",) and by["a"].other_updates == 1
    assert by["a"].security_ends.isoformat() == "2028-06-30" and by["a"].kernel_age_days == 3
    assert by["b"].state == "restart due" and by["b"].reboot_required is True
    assert by["c"].state == "unreachable" and "connection refused" in by["c"].reason
    assert by["d"].state == "patched" and by["d"].kernel_age_days is None
    assert by["d"].uptime_days is None
    assert by["e"].state == "not gathered" and by["e"].reason == patches.NOT_IN_RUN
    assert by["w"].state == "not gathered" and by["w"].reason == patches.NOT_LINUX
    c = patches.counts(rows)
    assert (c["gathered"], c["security updates pending"], c["restart due"], c["patched"],
            c["security_updates"]) == (3, 1, 1, 1, 1)


def test_trend_takes_each_days_last_run():
    points = [{"at": "2026-11-20T08:00:00+00:00", "compliant": 1, "security_pending": 3,
               "reboot_required": 0},
              {"at": "2026-11-20T18:00:00+00:00", "compliant": 2, "security_pending": 1,
               "reboot_required": 1},
              {"at": "2026-11-27T09:00:00+00:00", "compliant": 4, "security_pending": 0,
               "reboot_required": 0},
              {"at": "2026-11-28T09:00:00+00:00", "compliant": 4}]  # before patch counts
    days, series = patches.trend(points)
    assert days == ["2026-11-20", "2026-11-27", "2026-11-28"]
    assert series == {"security_pending": [1, 0, None], "reboot_required": [1, 0, None],
                      "patched": [2, 4, 4]}


def test_history_keeps_the_patch_counts(with_results):
    points = results.history(with_results, "servers.facts", "odder")
    assert [p["at"][:10] for p in points] == ["2026-11-20", TODAY.isoformat()]
    assert [(p["security_pending"], p["security_updates"], p["reboot_required"])
            for p in points] == [(0, 0, 2), (1, 1, 1)]
    assert [p["compliant"] for p in points] == [2, 2]


def test_the_danish_municipality_page_shows_patch_state_eol_and_its_trend(with_results):
    site = build_site(with_results, today=TODAY, lang="da")
    page = site.tenant_page("odder").read_text(encoding="utf-8")
    text = _section(page, "patch-state")
    assert "Opdateringsstatus og end of life" in text
    assert "1 server(e) har sikkerhedsopdateringer, der venter på at blive installeret." in text
    assert "1 server(e) skal genstartes" in text
    row = re.search(r"odd-file01 sikkerhedsopdateringer venter (.*?) odd-dc02", text).group(1)
    assert "Debian 12.15 (bookworm)" in row and "sudo 1.9.13p3-1+deb12u4+fdlab1" in row
    assert "udgivet 1. november 2024, 756 dage gammel" in row and "kørt i 12,5 dage" in row
    assert "30. juni 2028" in row and "kun sikkerhedsrettelser" in row
    assert re.search(r"odd-dc02 genstart påkrævet .*? ja \(libc6\)", text)
    assert "odd-app03 opdateret" in text
    assert "odd-citr08 ikke indsamlet indsamlingen omfatter kun Linux-servere" in text
    assert "odd-file11 ikke indsamlet ikke med i seneste indsamling" in text
    spec = json.loads(re.search(r'<script type="application/json" id="spec-patch-history">'
                                r"(.*?)</script>", page, re.DOTALL).group(1))
    assert spec["labels"] == ["2026-11-20", TODAY.isoformat()]
    assert [d["data"] for d in spec["datasets"]] == [[0, 1], [2, 1], [2, 2]]
    assert "servere med ventende sikkerhedsopdateringer" in _text(page)


def test_the_overview_summarises_patch_state_per_municipality(with_results):
    site = build_site(with_results, today=TODAY, lang="en")
    assert "2 / 8 servers with security updates pending" in _text(
        site.index.read_text(encoding="utf-8"))
    text = _section(site.index.read_text(encoding="utf-8"), "patch-state")
    assert "8 servers reported their patch state" in text
    assert "2 with security updates waiting, 1 waiting for a restart, 5 patched" in text
    assert re.search(r"Odder 4 / \d+ 1 1 2 0", text), text
    assert re.search(r"Favrskov 0 / \d+ 0 0 0 0", text), text
    data = json.loads((site.directory / "report.json").read_text(encoding="utf-8"))
    odder = {r["host"]: r for r in data["server_patches"]["odder"]}
    assert odder["odd-file01"]["security_updates"] == ["sudo 1.9.13p3-1+deb12u4+fdlab1"]
    assert odder["odd-dc02"]["state"] == "restart due"


def test_without_facts_the_page_says_which_command_gathers_them(settings):
    site = build_site(settings, today=TODAY, lang="en")
    text = _section(site.tenant_page("odder").read_text(encoding="utf-8"), "patch-state")
    assert "No server patch state run yet — run faellesdrift servers facts --tenant odder" \
        in text


def test_network_devices_show_model_and_os_version_where_known(settings):
    site = build_site(settings, today=TODAY, lang="en")
    text = _text(site.tenant_page("odder").read_text(encoding="utf-8"))
    assert "Model and OS version" in text
    assert "odd-core01 cisco_ios not recorded (faellesdrift discover reads it)" in text
