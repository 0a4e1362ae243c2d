"""The adapter against an in-process emulated fleet: backup, compliance, remediation, failures."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest

from faellesdrift import audit
from faellesdrift.estate import Estate, load_estate
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.network import Filters, Status, backup, compliance, remediate
from tests.conftest import REPO, day_after_expiry
from tests.network.conftest import lab_settings


@pytest.fixture
def odder(estate: Estate) -> Estate:
    """The shard this fleet serves: Odder's five devices."""
    return estate.subset(["odder"])


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def test_backup_commits_redacted_configs_once_per_run(odder: Estate, odder_gear: Fleet,
                                                      tmp_path: Path) -> None:
    settings = lab_settings(tmp_path, odder_gear)
    first = backup(odder, settings, Filters.of(tenant="odder"))
    assert first.ok and first.counts["changed"] == 5
    repo = settings.backups
    core = (repo / "odder" / "odd-core01.cfg").read_text()
    assert re.search(r"^enable secret 5 <redacted:[0-9a-f]{12}>$", core, re.MULTILINE)
    assert "$1$mERr" not in core
    assert "Last configuration change" not in core  # volatile lines dropped
    for f in repo.rglob("*.cfg"):
        assert "fw-vendor-ro" not in f.read_text(), f"SNMP community on disk in {f}"
    second = backup(odder, settings, Filters.of(tenant="odder"))
    assert second.counts["ok"] == 5 and second.counts["changed"] == 0
    log = _git(repo, "log", "--format=%s")
    assert log.splitlines()[:2] == [
        "network backup: 0 changed, 5 unchanged, 0 failed (tenant=odder)",
        "network backup: 5 changed, 0 unchanged, 0 failed (tenant=odder)"]


def test_compliance_finds_seeded_drift_and_lists_exceptions(odder: Estate, odder_gear: Fleet,
                                                            tmp_path: Path) -> None:
    fleet = compliance(odder, lab_settings(tmp_path, odder_gear))
    by = {h.host: h for h in fleet.hosts}
    assert fleet.ok
    assert {h.host for h in fleet.noncompliant} == {"odd-core01", "odd-acce03", "odd-dist02",
                                                    "odd-wan05"}
    assert by["odd-fire04"].compliant and by["odd-fire04"].exceptions == ("ODD-EX-002",)
    assert by["odd-core01"].exceptions == ("ODD-EX-001",)
    core = {c.control: c for c in by["odd-core01"].controls}
    assert core["net.syslog.siem"].extra == ("logging host 192.0.2.99",)
    assert core["net.ntp.servers"].compliant  # the local NTP server is the effective value
    acce = {c.control: c for c in by["odd-acce03"].controls}
    assert acce["net.ntp.servers"].missing == ("ntp server 10.250.0.124",)


def test_dry_run_changes_nothing(odder: Estate, odder_gear: Fleet, tmp_path: Path) -> None:
    before = {n: odder_gear.running(n) for n in odder_gear.devices}
    settings = lab_settings(tmp_path, odder_gear)
    fleet = remediate(odder, settings)
    assert fleet.ok
    assert {n: odder_gear.running(n) for n in odder_gear.devices} == before
    assert fleet.host("odd-dist02").pushed == ("no snmp-server community <redacted> ro",)
    assert not settings.audit_log.exists()


def test_apply_fixes_drift_keeps_exceptions_and_audits(odder: Estate, odder_gear: Fleet,
                                                       tmp_path: Path) -> None:
    settings = lab_settings(tmp_path, odder_gear)
    fleet = remediate(odder, settings, apply=True)
    assert fleet.ok, fleet.summary()
    assert fleet.counts == {"ok": 1, "changed": 4, "failed": 0, "unreachable": 0}
    assert "ntp server 10.27.0.123" in odder_gear.running("odd-core01")  # kept (ODD-EX-001)
    assert "snmp community fw-vendor-ro authorization read-only" in \
        odder_gear.running("odd-fire04")  # kept (ODD-EX-002)
    assert "snmp community fw-vendor-ro authorization read-only" not in \
        odder_gear.running("odd-wan05")  # no exception there: removed
    again = compliance(odder, settings)
    assert again.ok and not again.noncompliant
    assert again.host("odd-core01").exceptions == ("ODD-EX-001",)
    events = list(audit.read(settings.audit_log))
    assert sorted(e["target"] for e in events) == ["odd-acce03", "odd-core01", "odd-dist02",
                                                   "odd-wan05"]
    assert all(e["result"] == "verified" and e["command"] == "network remediate --apply"
               for e in events)
    wan = next(e for e in events if e["target"] == "odd-wan05")
    assert wan["change"]["pushed"] == ["delete snmp community <redacted>"]
    assert "fw-vendor-ro" not in settings.audit_log.read_text()


def test_expired_exception_lines_are_remediated(odder_gear: Fleet, tmp_path: Path) -> None:
    later = load_estate(REPO, day_after_expiry("ODD-EX-002"))
    settings = lab_settings(tmp_path, odder_gear)
    fleet = remediate(later, settings, Filters.of(host="odd-fire04"), apply=True)
    assert fleet.host("odd-fire04").status is Status.CHANGED
    assert not any("fw-vendor-ro" in line for line in odder_gear.running("odd-fire04"))
    assert "ntp server 10.27.0.123" in odder_gear.running("odd-core01")  # untouched


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failures_are_recorded_per_host_and_the_run_goes_on(odder: Estate, odder_gear: Fleet,
                                                            tmp_path: Path) -> None:
    ports = {**odder_gear.ports, "odd-wan05": _free_port()}  # nothing listens there
    odder_gear.slow("odd-dist02", 8)  # answers the login, never the `show`
    settings = lab_settings(tmp_path, odder_gear, ports=ports, read_timeout=3.0)
    fleet = compliance(odder, settings)
    by = {h.host: h for h in fleet.hosts}
    assert by["odd-wan05"].status is Status.UNREACHABLE
    assert by["odd-dist02"].status is Status.FAILED and "timed out" in by["odd-dist02"].reason
    assert by["odd-dist02"].compliant is None  # never shown compliant unless read and checked
    assert by["odd-fire04"].status is Status.OK and by["odd-fire04"].compliant
    assert not fleet.ok and len(fleet.failed) == 2
    assert "2 failed" not in fleet.summary() and "1 unreachable" in fleet.summary()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_wrong_password_is_an_authentication_failure(odder: Estate, odder_gear: Fleet,
                                                     tmp_path: Path) -> None:
    settings = lab_settings(tmp_path, odder_gear, password="not-the-password")
    fleet = compliance(odder, settings, Filters.of(host=["odd-core01", "odd-fire04"]))
    assert [h.status for h in fleet.hosts] == [Status.FAILED, Status.FAILED]
    assert all("authentication failed" in h.reason for h in fleet.hosts)


def test_device_taken_down_mid_run(odder: Estate, odder_gear: Fleet, tmp_path: Path) -> None:
    odder_gear.slow("odd-acce03", 2)  # still reading when it goes down
    settings = lab_settings(tmp_path, odder_gear, workers=5)
    import threading
    threading.Timer(0.8, odder_gear.stop, args=("odd-acce03",)).start()
    fleet = backup(odder, settings)
    acce = fleet.host("odd-acce03")
    assert acce.status.bad, acce
    assert sum(h.status is Status.CHANGED for h in fleet.hosts) == 4
    message = _git(settings.backups, "log", "-1", "--format=%B")
    assert "odd-acce03" in message and "previous backup kept" in message


def test_connections_are_closed_per_host(odder: Estate, odder_gear: Fleet,
                                         tmp_path: Path) -> None:
    compliance(odder, lab_settings(tmp_path, odder_gear))
    import time
    time.sleep(1.5)  # the emulator notices closed transports within its watchdog interval
    open_sessions = {n: odder_gear.open_sessions(n) for n in odder_gear.devices}
    assert not any(open_sessions.values()), open_sessions


def test_json_result_has_one_entry_per_host(odder: Estate, odder_gear: Fleet,
                                            tmp_path: Path) -> None:
    fleet = compliance(odder, lab_settings(tmp_path, odder_gear),
                       Filters.of(platform="juniper_junos"))
    data = json.loads(json.dumps(fleet.to_dict(), default=str))
    assert [h["host"] for h in data["hosts"]] == ["odd-fire04", "odd-wan05"]
    assert data["hosts"][1]["compliant"] is False
    assert "fw-vendor-ro" not in json.dumps(data)  # secrets redacted in output too
