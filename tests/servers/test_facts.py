"""`servers facts` as pure logic: apt's simulated upgrade, kernel dates, the play's answer,
ansible-runner events, the results payload and its history.

The apt corpus is apt's own output. ``apt-get -s`` prints one line per action
(apt-pkg/algorithms.cc, pkgSimulate::Describe): ``Inst name [current] (candidate
RELEASES [arch])``, RELEASES being ``Label:Version/Archive`` of every archive that
offers the candidate (VerIterator::RelStr), comma-separated; a package the upgrade
would newly install has no ``[current]``; ``Conf`` and ``Remv`` lines follow. The
Debian and Ubuntu lines below are from real hosts' upgrades (bookworm point release
12.5 with DSA-5621-1's openssl, jammy's USN-6663-1); the lab line is what apt 2.6.1
printed on a lab server with the lab's security suite.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from faellesdrift import results
from faellesdrift.servers import facts
from faellesdrift.settings import Settings

BOOKWORM = """\
NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
      Keep also in mind that locking is deactivated,
      so don't depend on the relevance to the real current situation!
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following NEW packages will be installed:
  linux-image-6.1.0-18-amd64
The following packages will be upgraded:
  base-files libssl3 linux-image-amd64 openssl tzdata
5 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.
Inst base-files [12.4+deb12u4] (12.4+deb12u5 Debian:12.5/stable [amd64])
Conf base-files (12.4+deb12u5 Debian:12.5/stable [amd64])
Inst libssl3 [3.0.11-1~deb12u2] (3.0.13-1~deb12u1 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u2] (3.0.13-1~deb12u1 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Inst tzdata [2023c-5+deb12u1] (2024a-0+deb12u1 Debian:12.5/stable-updates [all])
Inst linux-image-6.1.0-18-amd64 (6.1.76-1 Debian-Security:12/stable-security [amd64])
Inst linux-image-amd64 [6.1.69-1] (6.1.76-1 Debian-Security:12/stable-security [amd64])
Conf libssl3 (3.0.13-1~deb12u1 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Conf openssl (3.0.13-1~deb12u1 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Conf tzdata (2024a-0+deb12u1 Debian:12.5/stable-updates [all])
Conf linux-image-6.1.0-18-amd64 (6.1.76-1 Debian-Security:12/stable-security [amd64])
Conf linux-image-amd64 (6.1.76-1 Debian-Security:12/stable-security [amd64])
"""

JAMMY = """\
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages will be upgraded:
  libssl3 openssl snapd
3 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst libssl3 [3.0.2-0ubuntu1.12] (3.0.2-0ubuntu1.14 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst openssl [3.0.2-0ubuntu1.12] (3.0.2-0ubuntu1.14 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst snapd [2.58+22.04.1] (2.61.3+22.04 Ubuntu:22.04/jammy-updates [amd64])
Conf libssl3 (3.0.2-0ubuntu1.14 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Conf openssl (3.0.2-0ubuntu1.14 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Conf snapd (2.61.3+22.04 Ubuntu:22.04/jammy-updates [amd64])
"""

LAB = """\
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  sudo
1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst sudo [1.9.13p3-1+deb12u4] (1.9.13p3-1+deb12u4+fdlab1 Debian-Security:12/bookworm-security [amd64])
Conf sudo (1.9.13p3-1+deb12u4+fdlab1 Debian-Security:12/bookworm-security [amd64])
"""

NOTHING = """\
Reading package lists...
Building dependency tree...
Calculating upgrade...
0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
"""

# dist-upgrade with a removal and broken dependencies (apt appends " []" per package)
REMOVALS = """\
Remv libfoo1 [1.0-1]
Inst libfoo2 (2.0-1 Debian:12.5/stable [amd64]) []
Inst foo [1.0-1] (2.0-1 Debian:12.5/stable [amd64]) []
Conf libfoo2 (2.0-1 Debian:12.5/stable [amd64])
Conf foo (2.0-1 Debian:12.5/stable [amd64])
"""


def test_bookworm_point_release_with_security_fixes():
    found = {u.package: u for u in facts.parse_simulation(BOOKWORM)}
    assert list(found) == ["base-files", "libssl3", "openssl", "tzdata",
                           "linux-image-6.1.0-18-amd64", "linux-image-amd64"]
    assert {p for p, u in found.items() if u.security} == {
        "libssl3", "openssl", "linux-image-6.1.0-18-amd64", "linux-image-amd64"}
    ssl = found["libssl3"]
    assert (ssl.current, ssl.candidate, ssl.arch) == ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1",
                                                      "amd64")
    assert [str(o) for o in ssl.origins] == ["Debian:12.5/stable",
                                             "Debian-Security:12/stable-security"]
    assert found["linux-image-6.1.0-18-amd64"].current is None  # newly installed
    assert found["tzdata"].arch == "all" and not found["tzdata"].security  # stable-updates


def test_ubuntu_security_pocket_counts_and_updates_pocket_alone_does_not():
    found = {u.package: u for u in facts.parse_simulation(JAMMY)}
    assert found["libssl3"].security and found["openssl"].security
    assert not found["snapd"].security
    assert found["snapd"].origins[0].archive == "jammy-updates"


def test_the_lab_suite_is_a_security_suite_and_conf_remv_lines_are_not_updates():
    [sudo] = facts.parse_simulation(LAB)
    assert sudo.to_dict() == {"package": "sudo", "current": "1.9.13p3-1+deb12u4",
                              "candidate": "1.9.13p3-1+deb12u4+fdlab1", "security": True,
                              "origins": ["Debian-Security:12/bookworm-security"]}
    assert facts.parse_simulation(NOTHING) == []
    found = facts.parse_simulation(REMOVALS)
    assert [(u.package, u.current, u.candidate, u.security) for u in found] == [
        ("libfoo2", None, "2.0-1", False), ("foo", "1.0-1", "2.0-1", False)]


def test_a_candidate_no_archive_offers_has_no_origin_and_is_not_security():
    [u] = facts.parse_simulation("Inst local-tool [1.0] (1.1 [amd64])")
    assert u.origins == () and not u.security and u.candidate == "1.1"


def test_kernel_dates_from_uname_v():
    assert facts.kernel_date("#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)") \
        == date(2024, 11, 1)
    assert facts.kernel_date("#129-Ubuntu SMP Fri Aug 2 19:25:20 UTC 2024") == date(2024, 8, 2)
    assert facts.kernel_date("#1 SMP PREEMPT_DYNAMIC Wed Jul 10 11:00:00 EDT 2024") \
        == date(2024, 7, 10)
    assert facts.kernel_date("#1 SMP PREEMPT_DYNAMIC @1718100000") == date(2024, 6, 11)
    assert facts.kernel_date("#1 SMP PREEMPT_DYNAMIC @0") is None  # reproducible, no date
    assert facts.kernel_date("#1 SMP") is None


def test_clock_lines():
    uptime, lists = facts.parse_clock("18234.55 35000.10\n1700000000\n1764490000\n"
                                      "stat: cannot statx '/var/lib/apt/lists/*Release'\n")
    assert uptime == 18234.55 and lists is not None and lists.isoformat()[:10] == "2025-11-30"
    assert facts.parse_clock("") == (None, None)
    assert facts.parse_clock("garbage\n") == (None, None)


ANSWER = {"distribution": "Debian", "distribution_version": "12.15",
          "distribution_major_version": "12", "distribution_release": "bookworm",
          "kernel": "6.1.0-27-amd64",
          "kernel_version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)",
          "apt_rc": "0", "apt_simulation": LAB, "clock": "86400.0 1.0\n1764490000",
          "reboot_required": "True", "reboot_packages": "libc6\nlibc6\nlinux-image-amd64\n"}


def test_the_plays_answer_becomes_facts_with_eol_from_the_lifecycle_table():
    h = facts.read_answer(facts.HostFacts("odd-file01", "odder", declared_os="debian12",
                                          reason="no answer"), ANSWER, date(2026, 11, 27))
    assert (h.status, h.reason, h.os_key, h.os_name) == ("ok", "", "debian12",
                                                         "Debian 12.15 (bookworm)")
    assert h.security_ends == date(2028, 6, 30) and h.eol_status == "security only"
    assert h.kernel_age_days == (date(2026, 11, 27) - date(2024, 11, 1)).days
    assert h.uptime_days == 1.0 and h.reboot_required is True
    assert h.reboot_packages == ("libc6", "linux-image-amd64")
    assert [u.package for u in h.security_updates] == ["sudo"] and h.patched is False
    row = h.to_row()
    assert row["compliant"] is False and row["security_updates"] == 1 and row["updates"] == 1
    assert row["security_ends"] == "2028-06-30" and row["kernel_date"] == "2024-11-01"


def test_os_names_the_lifecycle_table_does_not_know_have_no_eol():
    answer = dict(ANSWER, distribution="Debian", distribution_major_version="13",
                  distribution_version="13.1", reboot_required="False", apt_simulation="")
    h = facts.read_answer(facts.HostFacts("x", "t"), answer, date(2026, 11, 27))
    assert h.os_key is None and h.security_ends is None and h.eol_status == "unknown"
    assert h.patched is True
    failed = facts.read_answer(facts.HostFacts("y", "t"), dict(ANSWER, apt_rc="100"),
                               date(2026, 11, 27))
    assert failed.status == "failed" and "100" in failed.reason and failed.patched is None


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def _event(kind: str, host: str, **data) -> dict:
    return {"event": kind, "event_data": {"host": host, **data}}


def test_events_fill_hosts_and_failures_are_results(settings):
    hosts = {n: facts.HostFacts(n, "odder") for n in ("a", "b", "c")}
    collect = facts._Collector(hosts, date(2026, 11, 27))
    collect(_event("runner_on_ok", "a", task=facts.FACTS_TASK, res={"msg": ANSWER}))
    collect(_event("runner_on_ok", "b", task="other task", res={"msg": "x"}))
    collect(_event("runner_on_unreachable", "b", task="Gathering Facts",
                   res={"msg": "Failed to connect to the host via ssh: Connection refused"}))
    collect(_event("runner_on_failed", "c", task="Simulate", res={"stderr": "E: lock"}))
    collect(_event("runner_on_failed", "a", task="ignored", ignore_errors=True, res={}))
    collect({"event": "playbook_on_stats", "event_data": {}})
    assert collect.stats_seen
    assert hosts["a"].status == "ok" and hosts["a"].security_updates
    assert hosts["b"].status == "unreachable" and "Connection refused" in hosts["b"].reason
    assert hosts["c"].status == "failed" and hosts["c"].reason == "Simulate: E: lock"
    result = facts.FactsResult("r1", hosts)
    assert not result.ok
    assert result.summary() == {"hosts": 3, "gathered": 1, "unreachable": 1, "failed": 1,
                                "security_pending": 1, "reboot_required": 1,
                                "end_of_life": 0}
    results.save(settings, facts.KIND, result.payload())
    saved = results.load(settings, facts.KIND)["tenants"]["odder"]
    assert saved["ok"] is False and [h["host"] for h in saved["hosts"]] == ["a", "b", "c"]
    [point] = results.history(settings, facts.KIND, "odder")
    assert (point["hosts"], point["checked"], point["compliant"], point["security_pending"],
            point["security_updates"], point["reboot_required"]) == (3, 1, 0, 1, 1, 1)


def test_pending_updates_alone_do_not_fail_the_run():
    h = facts.read_answer(facts.HostFacts("a", "odder"), ANSWER, date(2026, 11, 27))
    assert facts.FactsResult("r", {"a": h}).ok


def test_table_rows_say_what_is_pending():
    h = facts.read_answer(facts.HostFacts("a", "odder", declared_os="debian11"), ANSWER,
                          date(2026, 11, 27))
    row = facts.table_row(h)
    assert len(row) == len(facts.COLUMNS)
    assert row[2] == "behind" and row[4] == "1: sudo 1.9.13p3-1+deb12u4+fdlab1"
    assert row[6] == "yes (libc6, linux-image-amd64)"
    assert row[9] == "the tenant file says debian11"
    down = facts.HostFacts("b", "odder", status="unreachable", reason="timed out")
    assert facts.table_row(down)[2] == "unreachable"
