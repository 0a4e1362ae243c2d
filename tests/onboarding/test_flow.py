"""The onboarding flow: plan → show → apply, resumable, honest about missing commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift.errors import ConfigError
from faellesdrift.onboarding import flow as ob
from faellesdrift.onboarding.cli import onboard_cmd

FAKE = Path(__file__).with_name("fake_cli.py")
ALL = {"pulumi plan": {}, "pulumi apply": {}, "network compliance": {},
       "network remediate": {}, "servers plan": {}, "servers apply": {}, "verify": {},
       "meter collect": {}, "bill": {}}


@pytest.fixture
def fake(settings, tmp_path, monkeypatch):
    """Returns a function that installs a plan for the stand-in CLI and gives its argv."""
    calls = tmp_path / "calls.txt"
    plan_file = tmp_path / "plan.json"
    monkeypatch.setenv("FAKE_FD_CALLS", str(calls))
    monkeypatch.setenv("FAKE_FD_PLAN", str(plan_file))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))

    def install(plan: dict) -> list[str]:
        plan_file.write_text(json.dumps(plan))
        return [sys.executable, str(FAKE)]

    install.calls = lambda: [c for c in calls.read_text().splitlines()  # type: ignore[attr-defined]
                             if not c.endswith("--help")] if calls.exists() else []
    return install


def _run(settings, cli, **kw):
    lines: list[str] = []
    outcome = ob.onboard(settings, "odder", cli=cli, say=lines.append, **kw)
    return outcome, "\n".join(lines)


def test_steps_are_data_with_unique_ids_in_the_documented_order():
    ids = [s.id for s in ob.STEPS]
    assert len(ids) == len(set(ids))
    assert ids[0] == "validate" and ids[-1] == "report"
    assert [s.phase for s in ob.STEPS] == sorted((s.phase for s in ob.STEPS),
                                                 key=["plan", "apply"].index)
    verify = next(s for s in ob.STEPS if s.id == "verify")
    assert verify.command("odder") == ("verify", "--tenant", "odder")
    assert verify.words == ("verify",)


def test_plan_only_runs_the_read_only_steps_and_shows_what_apply_will_do(settings, fake):
    outcome, out = _run(settings, fake(ALL))
    assert outcome.ok and not outcome.applied
    assert fake.calls() == ["pulumi plan --tenant odder", "network compliance --tenant odder",
                            "servers plan --tenant odder"]
    assert "What `faellesdrift onboard odder --apply` does:" in out
    assert "servers-apply: Apply the server baseline" in out and "(will run)" in out
    assert "Nothing was changed. Run `faellesdrift onboard odder --apply`" in out
    record = json.loads(ob.record_path(settings, "odder").read_text())
    assert set(record["steps"]) == {"validate", "pulumi-plan", "network-compliance",
                                    "servers-plan"}
    assert all(s["status"] == "done" for s in record["steps"].values())


def test_a_missing_command_fails_its_step_by_name_and_nothing_is_applied(settings, fake):
    plan = {k: v for k, v in ALL.items() if not k.startswith("pulumi")}
    outcome, out = _run(settings, fake(plan), apply=True)
    assert not outcome.ok
    [bad] = outcome.failed
    assert bad.step.id == "pulumi-plan" and bad.status == "unavailable"
    assert "`faellesdrift pulumi plan` is not available in this installation " \
           "(the Pulumi adapter)" in bad.message
    assert "[NOT AVAILABLE] pulumi-plan" in out
    assert "pulumi-apply: Create the municipality's platform resources" in out
    assert "NOT AVAILABLE in this installation" in out
    assert "nothing was changed" in out
    assert not any(c.startswith(("servers apply", "network remediate")) for c in fake.calls())
    record = json.loads(ob.record_path(settings, "odder").read_text())
    assert record["steps"]["pulumi-plan"]["status"] == "failed"


def test_a_command_that_disappears_between_check_and_run_is_not_a_success(settings, fake):
    cli = fake({**ALL, "meter collect": {"exit": 2, "out": "Error: No such command 'meter'."}})
    outcome, _ = _run(settings, cli, apply=True)
    assert [r.step.id for r in outcome.failed] == ["meter"]
    assert outcome.failed[0].status == "unavailable"
    assert "`faellesdrift meter collect` is not available" in outcome.failed[0].message


def test_apply_runs_every_step_writes_the_report_and_records_completion(settings, fake):
    outcome, out = _run(settings, fake(ALL), apply=True)
    assert outcome.ok, out
    assert fake.calls()[3:] == [
        "pulumi apply --tenant odder --yes", "network remediate --tenant odder --apply",
        "servers apply --tenant odder --yes", "verify --tenant odder",
        "network compliance --tenant odder", "meter collect",
        "bill --compare --period 2026-11"]
    assert outcome.report == settings.state_dir / "reports" / "index.html"
    assert outcome.report.is_file()
    assert "odder is onboarded: every step done." in out
    record = json.loads(ob.record_path(settings, "odder").read_text())
    assert record["completed_at"] and record["steps"]["report"]["status"] == "done"
    page = (settings.state_dir / "reports" / "tenants" / "odder.html").read_text()
    assert "Onboarding steps" in page and "servers-apply" in page


def test_a_failed_step_stops_the_run_and_the_next_run_resumes_there(settings, fake):
    cli = fake({**ALL, "servers apply": [{"exit": 1, "out": "odd-file01: failed: disk full"},
                                         {"exit": 0}]})
    outcome, out = _run(settings, cli, apply=True)
    assert [r.step.id for r in outcome.failed] == ["servers-apply"]
    assert "exit code 1: odd-file01: failed: disk full" in outcome.failed[0].message
    assert "Stopped at servers-apply" in out
    assert not any(c.startswith("verify") for c in fake.calls())
    first = len(fake.calls())
    outcome, out = _run(settings, cli, apply=True)
    assert outcome.ok, out
    again = fake.calls()[first:]
    assert "pulumi apply --tenant odder --yes" not in again  # done: skipped
    assert "network remediate --tenant odder --apply" not in again
    assert again[3:] == ["servers apply --tenant odder --yes", "verify --tenant odder",
                         "network compliance --tenant odder", "meter collect",
                         "bill --compare --period 2026-11"]
    assert "pulumi-apply: done" in out and "skipped" in out


def test_a_completed_onboarding_is_idempotent(settings, fake):
    cli = fake(ALL)
    _run(settings, cli, apply=True)
    first = len(fake.calls())
    outcome, _ = _run(settings, cli, apply=True)
    assert outcome.ok
    assert fake.calls()[first:] == ["pulumi plan --tenant odder",
                                    "network compliance --tenant odder",
                                    "servers plan --tenant odder"]  # only the plan again
    assert {r.status for r in outcome.runs if r.step.phase == "apply"} == {"skipped"}


def test_a_changed_definition_makes_the_apply_steps_run_again(settings, fake):
    cli = fake(ALL)
    _run(settings, cli, apply=True)
    path = settings.root / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("population: 24000", "population: 24100"))
    first = len(fake.calls())
    outcome, out = _run(settings, cli, apply=True)
    assert outcome.ok
    assert "changed since the recorded apply steps" in out
    assert "pulumi apply --tenant odder --yes" in fake.calls()[first:]


def test_restart_forgets_the_record(settings, fake):
    cli = fake(ALL)
    _run(settings, cli, apply=True)
    first = len(fake.calls())
    _run(settings, cli, apply=True, restart=True)
    assert "pulumi apply --tenant odder --yes" in fake.calls()[first:]


def _drift_payload(compliant):
    return {"tenants": {"odder": {"hosts": [
        {"host": "odd-core01", "status": "ok", "compliant": compliant, "controls": []}]}}}


def test_network_drift_in_the_plan_is_information_when_every_device_was_checked(settings, fake):
    cli = fake({**ALL, "network compliance": {"exit": 1, "out": "odd-core01: drift",
                                              "save": {"network.compliance":
                                                       _drift_payload(False)}}})
    outcome, out = _run(settings, cli)
    assert outcome.ok, out
    assert "differences from the baseline found" in out


def test_exit_1_without_verdicts_is_a_failure(settings, fake):
    cli = fake({**ALL, "network compliance": {"exit": 1, "out": "boom"}})
    outcome, _ = _run(settings, cli)
    assert [r.step.id for r in outcome.failed] == ["network-compliance"]
    assert "cannot be told from failure" in outcome.failed[0].message
    cli = fake({**ALL, "network compliance": {"exit": 1, "save": {
        "network.compliance": _drift_payload(None)}}})
    outcome, _ = _run(settings, cli)
    assert "1 host(s) could not be read and checked: odd-core01" in outcome.failed[0].message


def test_an_invalid_community_stops_after_validate(settings, fake):
    path = settings.root / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("population: ", "population: -"))
    outcome, _out = _run(settings, fake(ALL), apply=True)
    assert [r.step.id for r in outcome.runs] == ["validate"]
    assert "population" in outcome.failed[0].message
    assert "in its tenant file" in outcome.failed[0].message
    assert fake.calls() == []


def test_an_expired_exception_is_named_and_onboarding_goes_on(settings, fake):
    path = settings.root / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("expires: 2028-06-30", "expires: 2026-01-01"))
    outcome, out = _run(settings, fake(ALL), apply=True)
    assert outcome.runs[0].step.id == "validate" and outcome.runs[0].status == "done"
    assert "ODD-EX-001 (odder, net.ntp.servers, expired 2026-01-01)" in out
    assert len(outcome.runs) > 1


@pytest.mark.parametrize("tenant, message", [
    ("../etc", "is not a tenant slug"), ("nowhere", "no tenant file tenants/nowhere.yaml")])
def test_bad_tenants_are_refused_before_anything_runs(settings, tenant, message):
    with pytest.raises(ConfigError, match=message):
        ob.onboard(settings, tenant, cli=["/bin/false"], say=lambda _: None)


def test_a_second_concurrent_onboarding_is_refused(settings):
    with ob._exclusive(settings, "odder"), pytest.raises(ConfigError, match="is running"):
        ob.onboard(settings, "odder", cli=["/bin/false"], say=lambda _: None)


def test_onboard_command_exit_codes(settings, fake, monkeypatch):
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(settings.state_dir))
    cli = fake({k: v for k, v in ALL.items() if k != "verify"})
    monkeypatch.setattr(ob, "find_cli", lambda: cli)
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("onboard")(onboard_cmd)
    for group, commands in (("pulumi", ("plan", "apply")), ("network", ("compliance", "remediate")),
                            ("servers", ("plan", "apply")), ("meter", ("collect",))):
        sub = typer.Typer()
        sub.callback()(lambda: None)
        for name in commands:
            sub.command(name)(lambda: None)
        app.add_typer(sub, name=group)
    app.command("bill")(lambda: None)  # no `verify`: the onboarding must say so
    runner = CliRunner()
    result = runner.invoke(app, ["onboard", "odder", "--root", str(settings.root)])
    assert result.exit_code == 0, result.output
    assert "verify: Verify every server" in result.output
    result = runner.invoke(app, ["onboard", "odder", "--apply", "--root", str(settings.root)])
    assert result.exit_code == 1
    assert "`faellesdrift verify` is not available" in result.output
    result = runner.invoke(app, ["onboard", "Bad/slug", "--root", str(settings.root)])
    assert result.exit_code == 1 and "is not a tenant slug" in result.output
