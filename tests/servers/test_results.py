"""Parsing ansible-runner events into per-host results (recorded event shapes, no Ansible run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faellesdrift.estate import load_estate
from faellesdrift.servers.hostvars import Selection, select
from faellesdrift.servers.results import (
    EventCollector,
    RunResult,
    render_diff,
    results_payload,
)
from tests.conftest import TODAY


@pytest.fixture(scope="module")
def selection() -> Selection:
    estate = load_estate(Path(__file__).resolve().parents[2], TODAY)
    return select(estate, hosts=["aar-file01", "aar-citr08", "odd-file01"])


def ev(kind: str, host: str | None = None, task: str = "", role: str = "", **data) -> dict:
    event_data = {"task": task, "role": role, "resolved_action": data.pop("action", ""), **data}
    if host:
        event_data["host"] = host
    return {"event": kind, "event_data": event_data, "stdout": ""}


TEMPLATE_DIFF = {"before": "pool 2.debian.pool.ntp.org iburst\n",
                 "after": "server 10.250.0.123 iburst\nserver 10.250.0.124 iburst\n",
                 "before_header": "/etc/chrony/chrony.conf",
                 "after_header": "dynamically generated"}


def _events() -> list[dict]:
    return [
        ev("playbook_on_start"),
        ev("runner_on_ok", "aar-file01", "Gathering Facts", res={"changed": False}),
        ev("runner_on_ok", "aar-citr08", "Gathering Facts", res={"changed": False}),
        ev("runner_on_unreachable", "odd-file01", "Gathering Facts",
           res={"unreachable": True, "msg": "Task failed: Data could not be sent to remote "
                "host \"odd-file01\". ssh: connect to host 127.42.0.9 port 22: Connection "
                "refused", "changed": False}),
        ev("runner_on_ok", "aar-file01", "Point chrony at the NTP servers", "time",
           action="ansible.builtin.template",
           res={"changed": True, "dest": "/etc/chrony/chrony.conf", "diff": [TEMPLATE_DIFF]}),
        ev("runner_on_ok", "aar-file01", "Create the admin accounts", "admin_accounts",
           action="ansible.builtin.user",
           res={"changed": True, "results": [
               {"item": "fd-ops", "changed": True, "name": "fd-ops", "diff": {}},
           ]}),
        ev("runner_on_skipped", "aar-file01", "Keep the agent running", "monitoring_agent"),
        ev("runner_on_failed", "aar-file01", "Look for something", "monitoring_agent",
           ignore_errors=True, res={"msg": "ignored"}),
        ev("runner_on_failed", "aar-citr08", "Write the SSH baseline (first match wins)",
           "ssh_hardening", action="ansible.builtin.template",
           res={"failed": True, "msg": "failed to validate: /usr/sbin/sshd -t\n  bad line"}),
        ev("playbook_on_stats", ok={"aar-file01": 4, "aar-citr08": 1},
           changed={"aar-file01": 2}, failures={"aar-citr08": 1}, dark={"odd-file01": 1},
           skipped={"aar-file01": 1}, ignored={"aar-file01": 1}),
    ]


def test_each_host_gets_its_own_result(selection: Selection) -> None:
    progress: list[tuple[str, str, str]] = []
    c = EventCollector(selection, "apply", lambda *a: progress.append(a))
    for e in _events():
        assert c(e) is True  # events stay in ansible-runner's artifacts
    file01, citr08, odd = c.hosts["aar-file01"], c.hosts["aar-citr08"], c.hosts["odd-file01"]

    assert (file01.status, file01.ok, file01.changed, file01.skipped, file01.ignored) == (
        "changed", 2, 2, 1, 1)
    chrony, user = file01.changes
    assert (chrony.role, chrony.path, chrony.action) == (
        "time", "/etc/chrony/chrony.conf", "ansible.builtin.template")
    assert chrony.controls == ("srv.ntp.servers",)
    assert "-pool 2.debian.pool.ntp.org iburst" in chrony.diff
    assert "+server 10.250.0.123 iburst" in chrony.diff
    assert user.controls == ("srv.admin.accounts",) and user.diff == ""

    assert citr08.status == "failed"
    assert citr08.reason == ("ssh_hardening : Write the SSH baseline (first match wins): "
                             "failed to validate: /usr/sbin/sshd -t bad line")
    assert citr08.exceptions == {"srv.ssh.password_auth": "AAR-EX-002"}

    assert odd.status == "unreachable" and "Connection refused" in odd.reason
    assert ("odd-file01", "Gathering Facts", "unreachable") in progress
    assert ("aar-file01", "", "done") in progress

    result = RunResult("apply", "r1", c.hosts)
    assert not result.ok
    assert result.summary() == {"ok": 0, "changed": 1, "failed": 1, "unreachable": 1,
                                "not run": 0}
    assert result.changed_tasks == 2
    d = result.to_dict()
    assert [h["status"] for h in d["hosts"]] == ["failed", "changed", "unreachable"]  # by name


def test_a_host_without_events_was_not_run(selection: Selection) -> None:
    c = EventCollector(selection, "plan")
    c(ev("runner_on_ok", "aar-file01", "Gathering Facts", res={"changed": False}))
    assert c.hosts["aar-citr08"].status == "not run"
    assert c.hosts["aar-file01"].status == "ok"
    assert not RunResult("plan", "r", c.hosts).ok


def test_a_clean_second_run_is_ok_with_zero_changes(selection: Selection) -> None:
    c = EventCollector(selection, "apply")
    c(ev("playbook_on_stats", ok={"aar-file01": 30, "aar-citr08": 30, "odd-file01": 30},
         changed={}, failures={}, dark={}))
    result = RunResult("apply", "r2", c.hosts)
    assert result.ok and result.changed_tasks == 0
    assert result.summary()["ok"] == 3


def test_events_of_hosts_outside_the_selection_are_ignored(selection: Selection) -> None:
    c = EventCollector(selection, "apply")
    c(ev("runner_on_failed", "zzz-other", "x", res={"msg": "boom"}))
    assert "zzz-other" not in c.hosts


def test_render_diff_handles_ansible_shapes() -> None:
    assert render_diff({"before": "a\n", "after": "a\n"}) == ""
    assert render_diff({"prepared": "--- x\n+++ y\n"}) == "--- x\n+++ y"
    assert render_diff({"before": {"state": "absent"}, "after": {"state": "directory"}}) == (
        "- {'state': 'absent'}\n+ {'state': 'directory'}")
    long = render_diff({"before": "", "after": "x\n" * 5000})
    assert long.endswith("more characters)") and len(long) < 4200


def test_plan_results_mark_the_drifting_controls(selection: Selection) -> None:
    c = EventCollector(selection, "plan")
    for e in _events():
        c(e)
    payload = results_payload(RunResult("plan", "r3", c.hosts), selection)
    aarhus = payload["tenants"]["aarhus"]
    assert aarhus["ok"] is False and aarhus["mode"] == "plan"
    file01 = next(h for h in aarhus["hosts"] if h["host"] == "aar-file01")
    rows = {r["control"]: r for r in file01["controls"]}
    assert file01["compliant"] is False
    assert rows["srv.ntp.servers"]["compliant"] is False
    assert rows["srv.ntp.servers"]["note"] == "would change: time"
    assert rows["srv.banner.motd"]["compliant"] is True
    citr = next(h for h in aarhus["hosts"] if h["host"] == "aar-citr08")
    assert citr["compliant"] is None and citr["exceptions"] == ["AAR-EX-002"]
    pw = next(r for r in citr["controls"] if r["control"] == "srv.ssh.password_auth")
    assert (pw["source"], pw["exception_status"]) == ("AAR-EX-002", "active")
    assert payload["tenants"]["odder"]["hosts"][0]["status"] == "unreachable"
