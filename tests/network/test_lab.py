"""Against the real lab's emulated devices (issue 3): the whole job, then failures.

The lab serves two tenants' devices (Odder, Horsens: both kinds of kept
exception; Odder also runs one device of every platform the sample tenants do
not) from their rendered configs with known deviations, on a private prefix
and port range, without servers. Anything missing fails with the reason —
never a skip.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from faellesdrift import audit
from faellesdrift.estate import Estate
from faellesdrift.network import Filters, Status, backup, compliance, remediate
from faellesdrift.network.platforms import PLATFORMS
from faellesdrift.network.settings import NetworkSettings
from faellesdrift.settings import Settings
from tests.conftest import REPO
from tests.network.conftest import NEW_PLATFORMS

pytestmark = pytest.mark.lab

TENANTS = ["odder", "horsens"]


@dataclass
class NetLab:
    lab: object
    settings: NetworkSettings
    estate: Estate
    deviations: dict[str, set[str]]  # device → controls the lab seeded a deviation in
    devices: dict[str, object]  # device → DeviceSpec


def _create(lab, spec, error: type[Exception], tries: int = 3) -> None:
    """create_device, again after a pause if the just-spawned emulator was judged dead
    before it had started (a race in the lab's readiness check, reported to the lab)."""
    for attempt in range(tries):
        try:
            lab.create_device(spec)
            return
        except error:
            if attempt == tries - 1:
                raise
            time.sleep(5)


@pytest.fixture(scope="module")
def netlab(tmp_path_factory: pytest.TempPathFactory, mixed_estate: Estate) -> Iterator[NetLab]:
    try:
        from faellesdrift.lab import Lab, LabError, LabPaths, LabSettings, cache_dir
        from faellesdrift.lab.plan import plan_from_estate
    except ImportError as exc:
        pytest.fail(f"the network lab tests need the lab package (issue 3): {exc}",
                    pytrace=False)
    state = tmp_path_factory.mktemp("netlab") / "state"
    paths = LabPaths(root=state / "lab", cache=cache_dir() / "lab")
    lab = Lab(paths, LabSettings(prefix="znw", device_ports=(46500, 46699),
                                 loopback=IPv4Network("127.51.0.0/16")))
    shard = mixed_estate.subset(TENANTS)
    plan = plan_from_estate(shard, servers_per_tenant=0)
    lab.down()
    try:
        for spec in plan.devices:
            _create(lab, spec, LabError)
    except LabError as exc:
        lab.down()
        pytest.fail(f"the lab could not serve the devices: {exc}", pytrace=False)
    settings = NetworkSettings.from_settings(
        Settings(root=REPO, state_dir=state, cache_dir=state / "cache"), target="lab",
        read_timeout=10.0)
    deviations = {d.name: {note.split(":")[0] for note in d.deviations} for d in plan.devices}
    try:
        yield NetLab(lab, settings, shard, deviations, {d.name: d for d in plan.devices})
    finally:
        lab.down()


def test_backup_commits_redacted_configs(netlab: NetLab) -> None:
    fleet = backup(netlab.estate, netlab.settings)
    assert fleet.ok, [h.reason for h in fleet.failed]
    assert fleet.counts["changed"] == len(netlab.devices) == 16 + len(NEW_PLATFORMS)
    assert {d.platform for d in netlab.devices.values()} == set(PLATFORMS)
    repo = netlab.settings.backups
    texts = {p.stem: p.read_text() for p in repo.rglob("*.cfg")}
    assert set(texts) == set(netlab.devices)
    for name, text in texts.items():
        assert not re.search(r"\bpublic\b", text) and "fw-vendor-ro" not in text, name
    # a keyed marker: the same secret gives the same marker in every backup
    assert re.search(r"^snmp-server community <redacted:[0-9a-f]{12}> RO$",
                     texts["odd-core01"], re.MULTILINE), texts["odd-core01"]
    log = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s"],
                         capture_output=True, text=True, check=True).stdout
    assert log.startswith(f"network backup: {len(netlab.devices)} changed, 0 unchanged, 0 failed")


def test_compliance_finds_the_seeded_deviations(netlab: NetLab) -> None:
    fleet = compliance(netlab.estate, netlab.settings)
    assert fleet.ok
    found = {h.host: {c.control for c in h.controls if not c.compliant} for h in fleet.hosts}
    assert found == netlab.deviations
    assert fleet.host("odd-fire04").exceptions == ("ODD-EX-002",)


def test_remediate_apply_fixes_all_but_kept_lines_then_compliance_is_clean(
        netlab: NetLab) -> None:
    dry = remediate(netlab.estate, netlab.settings)
    planned = {h.host: h.pushed for h in dry.hosts}
    applied = remediate(netlab.estate, netlab.settings, apply=True)
    assert applied.ok, [(h.host, h.reason) for h in applied.failed]
    assert {h.host: h.pushed for h in applied.hosts} == planned  # apply pushes the dry run
    again = compliance(netlab.estate, netlab.settings)
    assert again.ok and not again.noncompliant, again.summary()
    kept = {h.host: h.exceptions for h in again.hosts if h.exceptions}
    assert kept == {"hor-core01": ("HOR-EX-001",), "hor-fire04": ("HOR-EX-002",),
                    "odd-core01": ("ODD-EX-001",), "odd-fire04": ("ODD-EX-002",),
                    "odd-fgt08": ("ODD-EX-002",)}
    cfg = Path(netlab.lab.paths.device_config("odd-fire04")).read_text()
    assert "snmp community fw-vendor-ro authorization read-only" in cfg  # kept
    fgt = Path(netlab.lab.paths.device_config("odd-fgt08")).read_text()
    assert 'set name "fw-vendor-ro"' in fgt  # kept, as a FortiOS table entry
    assert "ntp server 10.27.0.123" in Path(netlab.lab.paths.device_config("odd-core01")
                                            ).read_text()  # kept
    events = [e for e in audit.read(netlab.settings.audit_log)]
    assert {e["target"] for e in events} == {h.host for h in applied.hosts
                                             if h.status is Status.CHANGED}
    assert all(e["result"] == "verified" for e in events)


def test_a_device_taken_down_mid_run_is_reported_and_the_others_finish(netlab: NetLab) -> None:
    victim = "odd-wan05"  # last in the run's order: still waiting when it goes down
    settings = netlab.settings.with_(workers=2)
    timer = threading.Timer(1.0, netlab.lab.delete_device, args=(victim,))
    timer.start()
    try:
        fleet = compliance(netlab.estate, settings, Filters.of(tenant="odder"))
    finally:
        timer.join()
        netlab.lab.create_device(netlab.devices[victim])
    assert fleet.host(victim).status.bad and fleet.host(victim).compliant is None
    others = [h for h in fleet.hosts if h.host != victim]
    assert all(h.status is Status.OK for h in others), [(h.host, h.reason) for h in others]


def test_wrong_password_on_the_lab_is_a_per_host_failure(netlab: NetLab, monkeypatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_DEVICE_USER", "labadmin")
    monkeypatch.setenv("FAELLESDRIFT_DEVICE_PASSWORD", "wrong")
    fleet = compliance(netlab.estate, netlab.settings, Filters.of(tenant="odder",
                                                                  platform="cisco_ios"))
    assert [h.status for h in fleet.hosts] == [Status.FAILED, Status.FAILED]
    assert all("authentication failed" in h.reason for h in fleet.hosts)
