"""`servers facts` against real lab hosts, and the report that shows what it found.

A lab of its own (prefix, loopback range and ports of its own, state in a temp dir)
with the first server of three sample tenants: the lab plants a pending security
update on one (its apt knows the lab's Debian-Security suite), a restart due on
another, and leaves the third clean. Then, in order:

facts finds exactly that -> the update is installed on the first host with apt, the
clean host's apt learns of the security suite and the second host's sshd stops ->
facts now finds the first host patched, the third behind and the second unreachable
(exit 1) -> the Danish report shows the server with the pending security update and
the trend of both runs. Anything missing on the machine fails with the reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from ipaddress import IPv4Network

import pytest
from typer.testing import CliRunner

from faellesdrift import results
from faellesdrift.estate import load_estate
from faellesdrift.lab import (
    Lab,
    LabError,
    LabSettings,
    security_repo,
    server_drift,
)
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.reports.site import build_site
from faellesdrift.servers.cli import servers_app
from faellesdrift.settings import Settings
from tests.conftest import REPO, TODAY
from tests.lab_paths import lab_paths_or_fail

pytestmark = pytest.mark.lab

TENANTS = ["aarhus", "favrskov", "horsens"]
SETTINGS = LabSettings(prefix="fdfct", device_ports=(48700, 48749),
                       loopback=IPv4Network("127.214.0.0/16"))


@dataclass
class Scenario:
    lab: Lab
    settings: Settings
    behind: str  # planted: a pending security update
    restart: str  # planted: a restart due
    clean: str


def _plan():
    full = plan_from_estate(load_estate(REPO, TODAY), servers_per_tenant=1, tenants=TENANTS)
    return replace(full, tenants=tuple(replace(t, devices=()) for t in full.tenants))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    state = tmp_path_factory.mktemp("facts-lab")
    paths = lab_paths_or_fail(state, "the facts lab test needs")
    plan = _plan()
    by_drift = {s.deviations: s.name for s in plan.servers}
    assert set(by_drift) == {(server_drift.SECURITY_UPDATE,), (server_drift.REBOOT_REQUIRED,),
                             ()}, by_drift
    the_lab = Lab(paths, SETTINGS)
    with pytest.MonkeyPatch.context() as mp:
        the_lab.down()  # what a crashed earlier session with this prefix may have left
        mp.setenv("FAELLESDRIFT_STATE", str(state))
        try:
            the_lab.up(plan)
        except LabError as exc:
            the_lab.down(reset=True)
            pytest.fail(f"lab up failed: {exc}", pytrace=False)
        try:
            yield Scenario(the_lab, Settings.from_env(REPO),
                           behind=by_drift[(server_drift.SECURITY_UPDATE,)],
                           restart=by_drift[(server_drift.REBOOT_REQUIRED,)],
                           clean=by_drift[()])
        finally:
            the_lab.down(reset=True)


def facts(*argv: str) -> tuple[int, dict]:
    r = CliRunner().invoke(servers_app, ["facts", *argv, "--root", str(REPO), "-o", "json"],
                           catch_exceptions=False)
    return r.exit_code, json.loads(r.output[r.output.index("{"):])


def ssh(s: Scenario, host: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-F", str(s.lab.paths.ssh_config), "-o", "BatchMode=yes",
                           "-o", "ConnectTimeout=10", host, command],
                          capture_output=True, text=True, timeout=120, check=False)


def test_facts_find_the_planted_security_update_and_restart(scenario: Scenario):
    assert scenario.lab.read_server(scenario.behind).deviations == (
        server_drift.SECURITY_UPDATE,)  # `lab status` says what the lab planted
    code, out = facts("--tenant", "aarhus", "--tenant", "favrskov", "--tenant", "horsens")
    assert code == 0, out  # pending updates are facts, not failures
    hosts = {h["host"]: h for h in out["hosts"]}
    assert set(hosts) == {scenario.behind, scenario.restart, scenario.clean}
    for h in hosts.values():
        assert h["status"] == "ok", h
        assert (h["os_key"], h["distribution"], h["codename"]) == ("debian12", "Debian",
                                                                   "bookworm")
        assert h["security_ends"] == "2028-06-30"
        assert h["kernel"] == os.uname().release  # containers run the machine's kernel
    behind = hosts[scenario.behind]
    [update] = behind["pending"]
    assert update["package"] == security_repo.PACKAGE and update["security"] is True
    assert update["candidate"] == update["current"] + security_repo.VERSION_SUFFIX
    assert update["origins"] == ["Debian-Security:12/bookworm-security"]
    assert behind["security_updates"] == 1 and behind["compliant"] is False
    assert hosts[scenario.restart]["reboot_required"] is True
    assert hosts[scenario.restart]["reboot_packages"] == ["libc6"]
    assert hosts[scenario.restart]["security_updates"] == 0
    assert hosts[scenario.clean]["compliant"] is True
    assert hosts[scenario.clean]["updates"] == 0
    assert out["summary"]["security_pending"] == 1 and out["summary"]["reboot_required"] == 1
    saved = results.load(scenario.settings, "servers.facts")
    assert set(saved["tenants"]) == set(TENANTS)


def test_apt_decides_and_an_unreachable_host_fails_the_run(scenario: Scenario):
    # install the fix with apt from the lab's suite; tell the clean host's apt about it
    done = ssh(scenario, scenario.behind, "apt-get install -y -q --only-upgrade "
               f"{security_repo.PACKAGE} >/dev/null 2>&1 && dpkg-query -W {security_repo.PACKAGE}")
    assert done.returncode == 0 and security_repo.VERSION_SUFFIX in done.stdout, done
    told = ssh(scenario, scenario.clean,
               f"printf '%s' '{security_repo.SOURCES_ENTRY.strip()}' "
               f"> /{security_repo.SOURCES_FILE} && apt-get update -qq "
               "-o Dir::Etc::SourceList=/dev/null 2>&1; echo listed")
    assert told.returncode == 0, told
    ssh(scenario, scenario.restart, "systemctl stop ssh.service")
    code, out = facts()
    assert code == 1, out
    hosts = {h["host"]: h for h in out["hosts"]}
    assert hosts[scenario.behind]["security_updates"] == 0
    assert hosts[scenario.behind]["compliant"] is True
    assert hosts[scenario.clean]["security_updates"] == 1
    assert hosts[scenario.clean]["pending"][0]["package"] == security_repo.PACKAGE
    assert hosts[scenario.restart]["status"] == "unreachable"
    assert hosts[scenario.restart]["compliant"] is None
    tenant = load_estate(REPO, TODAY).host(scenario.clean).tenant
    assert [p["security_pending"] for p in results.history(
        scenario.settings, "servers.facts", tenant)] == [0, 1]


def test_the_danish_report_shows_the_server_with_pending_security_updates(scenario: Scenario):
    site = build_site(scenario.settings, today=TODAY, lang="da")
    tenant = load_estate(REPO, TODAY).host(scenario.clean).tenant
    page = site.tenant_page(tenant).read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert re.search(rf"{scenario.clean} sikkerhedsopdateringer venter Debian 12\.\d+ "
                     rf"\(bookworm\) {security_repo.PACKAGE} \S+{re.escape(security_repo.VERSION_SUFFIX)}",
                     text), text[text.find("Opdateringsstatus og end of life"):][:1500]
    assert 'id="spec-patch-history"' in page
    index = site.index.read_text(encoding="utf-8")
    assert "Servernes opdateringsstatus" in index
