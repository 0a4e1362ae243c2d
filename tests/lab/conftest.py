"""One small lab for the whole test session: two tenants, three servers, one device per platform.

It has its own prefix, loopback range and device ports, so it never touches a
developer's lab; the base image comes from the shared cache (built on first use).
Anything missing on the machine fails the tests with the reason — never a skip.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from faellesdrift.lab import (
    DeviceSpec,
    Lab,
    LabError,
    LabPaths,
    LabPlan,
    LabSettings,
    ServerSpec,
    ServicesSpec,
    TenantSpec,
    cache_dir,
    preflight,
)
from faellesdrift.lab.devices import drift

SETTINGS = LabSettings(prefix="fdtest", device_ports=(47100, 47199),
                       loopback=IPv4Network("127.49.0.0/16"))
SERVICES = ServicesSpec(
    prefix=IPv4Network("10.250.0.0/24"),
    ntp=(IPv4Address("10.250.0.123"), IPv4Address("10.250.0.124")),
    dns=(IPv4Address("10.250.0.53"),),
    syslog=(IPv4Address("10.250.0.14"), 514),
    tcp=((IPv4Address("10.250.0.20"), 10051),),
)
STANDARD = {drift.NTP: ["10.250.0.123", "10.250.0.124"], drift.SYSLOG: "10.250.0.14",
            drift.SNMP: [], drift.TACACS: ["10.250.0.49"], drift.DNS: ["10.250.0.53"],
            drift.BANNER: "Authorised access only"}
# A few lines in each platform's own syntax (the lab plan seeds devices from the
# core renderer; these hand-made plans need no estate).
SEEDS = {
    "cisco_ios": lambda name, ntp: (f"hostname {name}", *(f"ntp server {s}" for s in ntp),
                                    "interface GigabitEthernet1/0/1", " description uplink"),
    "arista_eos": lambda name, ntp: (f"hostname {name}", "ip name-server vrf default 10.250.0.53",
                                     *(f"ntp server {s}" for s in ntp),
                                     "interface Ethernet1", "   description uplink"),
    "juniper_junos": lambda name, ntp: (f"system host-name {name}",
                                        *(f"system ntp server {s}" for s in ntp)),
}


def _device(name: str, tenant: str, platform: str, address: str, index: int) -> DeviceSpec:
    mgmt = IPv4Interface(address)
    values, deviations = drift.deviate(STANDARD, set(), mgmt.network, index)
    return DeviceSpec(name, tenant, platform, mgmt.ip,
                      SEEDS[platform](name, drift.as_list(values[drift.NTP])), deviations)


def _tenant(slug: str, second_octet: int, servers: int, devices: list[tuple[str, str]]
            ) -> TenantSpec:
    mgmt = IPv4Network(f"10.{second_octet}.0.0/24")
    srv = IPv4Network(f"10.{second_octet}.10.0/24")
    return TenantSpec(
        slug=slug, prefixes=(mgmt, srv),
        servers=tuple(ServerSpec(f"{slug}-srv{i + 1:02d}", slug,
                                 IPv4Interface(f"10.{second_octet}.10.{11 + i}/24"))
                      for i in range(servers)),
        devices=tuple(_device(name, slug, platform, f"10.{second_octet}.0.{i + 1}/24", i)
                      for i, (name, platform) in enumerate(devices)),
    )


PLAN = LabPlan(
    tenants=(
        _tenant("alpha", 201, 2, [("alpha-core01", "cisco_ios"), ("alpha-dist02", "arista_eos")]),
        _tenant("beta", 202, 1, [("beta-fire01", "juniper_junos")]),
    ),
    services=SERVICES, community="test",
)


@pytest.fixture(scope="session")
def lab_paths(tmp_path_factory: pytest.TempPathFactory) -> LabPaths:
    return LabPaths(root=tmp_path_factory.mktemp("labstate") / "lab", cache=cache_dir() / "lab")


@pytest.fixture(scope="session")
def lab(lab_paths: LabPaths) -> Iterator[Lab]:
    """The session's lab, up once; torn down at the end even when tests fail."""
    try:
        preflight(lab_paths)
    except LabError as exc:
        pytest.fail(f"the lab tests need this machine to run the lab: {exc}", pytrace=False)
    the_lab = Lab(lab_paths, SETTINGS)
    the_lab.down()  # what an earlier, crashed test session may have left
    try:
        the_lab.up(PLAN)
    except LabError as exc:
        the_lab.down()
        pytest.fail(f"lab up failed: {exc}", pytrace=False)
    yield the_lab
    the_lab.down()


def ssh(lab: Lab, host: str, command: str, *, stdin: str | None = None,
        config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command on a lab server through the lab's ssh_config (strict host keys)."""
    return subprocess.run(
        ["ssh", "-F", str(config or lab.paths.ssh_config), "-o", "BatchMode=yes",
         "-o", "ConnectTimeout=10", host, command],
        input=stdin, capture_output=True, text=True, timeout=60, check=False)


PROBE = """
import json, socket
results = {}
for host, port in %s:
    try:
        socket.create_connection((host, port), timeout=%s).close()
        results[f"{host}:{port}"] = "open"
    except socket.timeout:
        results[f"{host}:{port}"] = "timeout"
    except OSError as exc:
        results[f"{host}:{port}"] = f"refused:{exc.errno}"
print(json.dumps(results))
"""


def tcp_from(lab: Lab, server: str, targets: list[tuple[str, int]],
             timeout: float = 3.0) -> dict[str, str]:
    """Real TCP connections made inside `server`: 'open', 'timeout' or 'refused:<errno>'."""
    import json

    r = ssh(lab, server, "python3 -", stdin=PROBE % (repr(targets), timeout))
    assert r.returncode == 0, f"ssh {server} failed: {r.stderr.strip()}"
    return json.loads(r.stdout)
