"""The onboarding report: ready, missing, and what needs an exception or a contract entry."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from faellesdrift import results
from faellesdrift.onboarding.cli import onboard_cmd
from faellesdrift.onboarding.takeover import build
from faellesdrift.onboarding_record import save_record
from tests.conftest import TODAY


def _edit(settings, old: str, new: str) -> None:
    path = settings.root / "tenants" / "samsoe.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _by_section(report) -> dict[str, list[str]]:
    return {s: [f"{i.topic}: {i.what}" for i in report.section(s)]
            for s in ("ready", "missing", "decide")}


def test_a_fresh_tenant_lists_what_is_missing_and_what_to_decide(settings):
    _edit(settings, "name: sam-citr08, address: 10.41.10.18, os: debian12",
          "name: sam-citr08, address: 10.41.10.18, os: windows2022")
    report = build(settings, "samsoe", TODAY)
    got = _by_section(report)
    assert "servers: 8 server(s) under the shared Linux baseline (debian12, debian11)" \
        in got["ready"]
    # sam-dc02 is covered by the hardware lease SAM-K-002; sam-citr08 by nobody
    assert any("1 asset(s) outside the baseline" in r and "sam-dc02 (contract SAM-K-002)" in r
               for r in got["ready"])
    (citrix,) = [i for i in report.section("decide") if i.topic == "inventory"]
    assert "sam-citr08: windows2022: not covered by the Linux baseline" in citrix.what
    assert "contract" in citrix.fix and "not_delivered" in citrix.fix
    assert any("SAM-K-001" in d and "after the takeover on 2027-05-15" in d
               for d in got["decide"])
    assert any("SAM-EX-002" in m and "expired" in m for m in got["missing"])
    assert any(m.startswith("scope: identities stay local") for m in got["missing"])
    assert "discovery: the live gear has not been compared with the tenant file" \
        in got["missing"]
    assert "onboarding: no onboarding step has run" in got["missing"]
    assert not report.ready


def test_import_discovery_compliance_and_steps_come_from_their_results(settings):
    gaps = [{"ref": "row 12", "action": "skipped", "message": "no host name"},
            {"ref": "row 14", "action": "defaulted",
             "message": "sam-new14: missing vcpu=2 set; correct them in the file"}]
    results.save(settings, "tenant.import", {"tenants": {"samsoe": {
        "ok": False, "source": "assets.xlsx", "counts": {}, "gaps": gaps}}})
    results.save(settings, "tenant.discover", {"tenants": {"samsoe": {
        "ok": False, "hosts": [
            {"host": "sam-core01", "status": "found"},
            {"host": "sam-fire04", "status": "unreachable", "reason": "no TCP connection"}],
        "differences": [{"host": "sam-core01", "field": "os_version",
                         "in_file": "15.2(7)E3", "found": "17.03.01a"}]}}})
    results.save(settings, "network.compliance", {"tenants": {"samsoe": {
        "ok": False, "hosts": [{"host": "sam-dist02", "compliant": False},
                               {"host": "sam-core01", "compliant": True}]}}})
    save_record(settings, "samsoe", {"tenant": "samsoe", "plan": [
        {"id": "validate"}, {"id": "servers-plan"}, {"id": "servers-apply"}], "steps": {
        "validate": {"status": "done"},
        "servers-plan": {"status": "failed", "message": "exit code 1: sam-db04 unreachable"}}})
    got = _by_section(build(settings, "samsoe", TODAY))
    assert "import: 1 row(s) of assets.xlsx were not imported: row 12" in got["missing"]
    assert ("import: 1 host(s) have values the import defaulted (sizes, role or site): "
            "sam-new14") in got["missing"]
    assert "discovery: 1 host(s) did not answer discovery: sam-fire04 (no TCP connection)" \
        in got["missing"]
    assert ("discovery: sam-core01: os_version is '15.2(7)E3' in the tenant file but "
            "'17.03.01a' on the host") in got["missing"]
    assert "network: 1 device(s) differ from the network baseline: sam-dist02" in got["decide"]
    assert "onboarding: 1 onboarding step(s) done: validate" in got["ready"]
    assert ("onboarding: step servers-plan failed: exit code 1: sam-db04 unreachable"
            in got["missing"])
    assert "onboarding: 1 step(s) not run yet: servers-apply" in got["missing"]


def test_the_report_option_runs_no_step_and_says_ready_by_exit_code(settings, monkeypatch):
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(settings.state_dir))
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("onboard")(onboard_cmd)
    r = CliRunner().invoke(app, ["onboard", "samsoe", "--report", "--root",
                                 str(settings.root), "-o", "json"])
    assert r.exit_code == 1, r.output  # not ready: things are missing
    data = json.loads(r.stdout)
    assert data["tenant"] == "samsoe" and data["ready_for_takeover"] is False
    assert {"ready", "missing", "decide"} <= set(data)
    assert not (settings.state_dir / "onboarding" / "samsoe.json").exists()  # nothing ran
    r = CliRunner().invoke(app, ["onboard", "samsoe", "--report", "--root",
                                 str(settings.root)])
    assert "Needs an exception or a contract entry" in r.output
    assert "samsoe: not ready:" in r.output
