"""Fixtures for the network adapter: the sample estate, an in-process fleet, settings."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from faellesdrift.estate import Estate, load_estate
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.lab_access import DeviceEndpoint, LabAccess, access_file, write_lab_access
from faellesdrift.network.intended import render
from faellesdrift.network.settings import NetworkSettings
from faellesdrift.settings import Settings
from tests.conftest import REPO, TODAY

USER = "fleetadmin"
PASSWORD = "fleet-Secret-1"  # test-only credentials of a loopback emulator

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("FAELLESDRIFT_UPDATE_GOLDEN"))
# A private port range per pytest worker: fakenos sets SO_REUSEPORT, so two fleets on
# one port would silently share it (FACTS).
BASE_PORT = 46000 + 200 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)


def golden(rel: str, actual: str) -> None:
    """Compare with tests/network/golden/<rel>; FAELLESDRIFT_UPDATE_GOLDEN=1 rewrites it."""
    __tracebackhide__ = True
    path = GOLDEN / rel
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"golden file {path} is missing: run with FAELLESDRIFT_UPDATE_GOLDEN=1 "
                        "once and review the new file")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"differs from {path}"


@pytest.fixture(scope="session")
def estate() -> Estate:
    return load_estate(REPO, TODAY)


@pytest.fixture(autouse=True, scope="session")
def _quiet_fakenos() -> None:
    for name in ("fakenos", "paramiko"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def seeded(estate: Estate, name: str, *, drop: str = "", add: str = "") -> tuple[str, str]:
    """A device config: its intended config, minus ``drop``, plus ``add`` (seeded drift)."""
    host = estate.host(name)
    text = render(estate, host).text.replace(drop, "") if drop else render(estate, host).text
    return host.spec.platform, text + add


def fleet(devices: dict[str, tuple[str, str]], port: int, directory: Path) -> Fleet:
    """The lab's emulator serving ``devices`` in this process (no root, no running lab)."""
    directory.mkdir(parents=True, exist_ok=True)
    return Fleet(devices, port, directory, USER, PASSWORD)


def lab_settings(tmp_path: Path, gear: Fleet, *, password: str = PASSWORD,
                 ports: dict[str, int] | None = None, **overrides) -> NetworkSettings:
    """Settings whose lab access artefact describes ``gear`` (as the lab publishes it)."""
    state = tmp_path / "state"
    lab = state / "lab"
    lab.mkdir(parents=True, exist_ok=True)
    login = lab / "credentials.json"
    login.write_text(json.dumps({"devices": {"username": USER, "password": password}}))
    served = {n: DeviceEndpoint("127.0.0.1", port) for n, port in (ports or gear.ports).items()
              if n in gear.devices}
    write_lab_access(access_file(state), LabAccess(devices=MappingProxyType(served),
                                                   device_credentials=login))
    settings = Settings(root=REPO, state_dir=state, cache_dir=tmp_path / "cache")
    opts = {"target": "lab", "read_timeout": 6.0, "conn_timeout": 3.0, "auth_timeout": 6.0,
            **overrides}
    return NetworkSettings.from_settings(settings, **opts)


@pytest.fixture
def odder_gear(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """Odder's five devices with seeded drift (and one expired-exception candidate)."""
    devices = {
        # exception keeps the local NTP server; drift: rogue syslog, a secret
        "odd-core01": seeded(estate, "odd-core01",
                             add="logging host 192.0.2.99\nenable secret 5 $1$mERr$hx5rVt7\n"),
        # drift: one shared NTP server missing, banner wrong
        "odd-acce03": seeded(estate, "odd-acce03", drop="ntp server 10.250.0.124\n"),
        "odd-dist02": seeded(estate, "odd-dist02", add="snmp-server community public ro\n"),
        # exception keeps the vendor's SNMP community: compliant as it is
        "odd-fire04": seeded(estate, "odd-fire04"),
        # drift: an SNMP community that no exception keeps on this host
        "odd-wan05": seeded(estate, "odd-wan05",
                            add="set snmp community fw-vendor-ro authorization read-only\n"),
    }
    with fleet(devices, BASE_PORT, tmp_path_factory.mktemp("fleet")) as gear:
        yield gear


# One device of each platform the sample tenants do not run, added to a copy of Odder.
NEW_PLATFORMS = {"odd-nx06": "cisco_nxos", "odd-cx07": "aruba_aoscx", "odd-fgt08": "fortinet"}


@pytest.fixture(scope="session")
def mixed_estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    """The sample community with Odder also running every other supported platform.

    ODD-EX-002 (the vendor's SNMP community) also names the FortiGate.
    """
    root = tmp_path_factory.mktemp("mixed")
    shutil.copy(REPO / "community.yaml", root / "community.yaml")
    shutil.copytree(REPO / "tenants", root / "tenants")
    odder = root / "tenants" / "odder.yaml"
    lines = odder.read_text(encoding="utf-8").split("\n")
    at = lines.index("network_devices:") + 1
    for i, (name, platform) in enumerate(NEW_PLATFORMS.items()):
        lines.insert(at, f"  - {{name: {name}, platform: {platform}, address: 10.27.0.{6 + i}, "
                         "role: access, site: Rådhuset, ports: 48}")
    text = "\n".join(lines)
    # the vendor's SNMP community is kept on the FortiGate too (a table entry on FortiOS)
    text = text.replace("hosts: [odd-fire04]", "hosts: [odd-fire04, odd-fgt08]", 1)
    odder.write_text(text, encoding="utf-8")
    return load_estate(root, TODAY)
