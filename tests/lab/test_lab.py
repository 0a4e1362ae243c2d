"""The lab itself, as root: bring-up, access, devices, isolation, persistence, teardown.

Tests run in file order against one session lab (conftest.py); the last ones
take it down and prove that nothing is left, also after a crash.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from faellesdrift.lab import Lab, LabError, netns
from faellesdrift.lab.keys import credentials
from tests.lab.conftest import PLAN, SERVICES, SETTINGS, ssh, tcp_from

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300)]

ALPHA = [s.name for s in PLAN.tenants[0].servers]
BETA = [s.name for s in PLAN.tenants[1].servers]


def _lab_pids(lab: Lab) -> set[int]:
    status = json.loads(lab.paths.state_file.read_text())
    pids = {r["pid"] for r in status["servers"].values()}
    return pids | {r["pid"] for r in status["processes"].values()}


def test_up_brings_every_object_up(lab: Lab) -> None:
    status = lab.status()
    assert {s.name for s in status.servers} == set(ALPHA + BETA)
    assert {d.name for d in status.devices} == {d.name for d in PLAN.devices}
    assert all(s.running for s in status.servers), status.servers
    assert all(d.running for d in status.devices), status.devices
    assert status.processes == {"emulator": True, "netd": True}
    assert {s.name for s in status.segments} == {"alpha", "beta", "shared"}
    for name in ("credentials.json", "known_hosts", "ssh_config", "keys/operator_ed25519"):
        mode = stat.S_IMODE((lab.paths.root / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"


def test_second_up_creates_nothing_twice(lab: Lab) -> None:
    before_pids, before_ns = _lab_pids(lab), set(netns.names(SETTINGS.prefix))
    ports = {d.name: d.port for d in lab.status().devices}
    lab.up(PLAN)
    assert _lab_pids(lab) == before_pids
    assert set(netns.names(SETTINGS.prefix)) == before_ns
    assert {d.name: d.port for d in lab.status().devices} == ports


def test_ssh_reaches_every_server_with_strict_host_keys(lab: Lab) -> None:
    for status in lab.status().servers:
        for alias in (status.name, status.address.split("/")[0]):
            r = ssh(lab, alias, "hostname; systemctl is-system-running --wait")
            assert r.returncode == 0, f"ssh {alias}: {r.stderr.strip()}"
            assert r.stdout.split() == [status.name, "running"]
    config = lab.paths.ssh_config.read_text()
    assert config.count("StrictHostKeyChecking yes") == len(PLAN.servers) + len(PLAN.devices)


def test_a_wrong_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text(lab.paths.known_hosts.read_text().replace(
        ALPHA[0], "nobody", 1).replace(ALPHA[1], ALPHA[0], 1))
    config = tmp_path / "ssh_config"
    config.write_text(lab.paths.ssh_config.read_text().replace(
        str(lab.paths.known_hosts), str(other)))
    r = ssh(lab, ALPHA[0], "true", config=config)
    assert r.returncode != 0 and "Host key verification failed" in r.stderr


def _connect(lab: Lab, name: str) -> ConnectHandler:
    device = lab.read_device(name)
    assert device is not None and device.running
    creds = credentials(lab.paths)
    return ConnectHandler(device_type=device.platform, host=device.host, port=device.port,
                          username=creds.username, password=creds.password,
                          conn_timeout=10, read_timeout_override=30)


PUSH = {  # platform -> (device, lines to push, line that must appear, line that must go)
    "cisco_ios": ("alpha-core01", ["ntp server 10.250.0.199", "no ntp server 10.250.0.123"],
                  "ntp server 10.250.0.199", "ntp server 10.250.0.123"),
    "arista_eos": ("alpha-dist02", ["logging host 10.250.0.15", "no ip name-server vrf default"],
                   "logging host 10.250.0.15", "ip name-server vrf default"),
    "juniper_junos": ("beta-fire01", ["set system ntp server 10.250.0.199",
                                      "delete system ntp server 10.250.0.123"],
                      "set system ntp server 10.250.0.199", "set system ntp server 10.250.0.123"),
}


def _running(conn: ConnectHandler, platform: str) -> str:
    if platform == "juniper_junos":
        return conn.send_command("show configuration | display set")
    conn.enable()
    return conn.send_command("show running-config")


@pytest.mark.parametrize("platform", sorted(PUSH))
def test_pushed_config_is_read_back_in_a_new_session(lab: Lab, platform: str) -> None:
    name, lines, added, removed = PUSH[platform]
    conn = _connect(lab, name)
    assert removed in _running(conn, platform)
    if platform == "juniper_junos":
        conn.send_config_set(lines, exit_config_mode=False)
        conn.commit()
        conn.exit_config_mode()
    else:
        conn.enable()
        conn.send_config_set(lines)
    conn.disconnect()

    conn = _connect(lab, name)  # a second session sees the first one's change
    running = _running(conn, platform)
    conn.disconnect()
    assert added in running
    assert removed not in running
    saved = lab.paths.device_config(name).read_text()
    assert added.removeprefix("set ") in saved


def test_tenants_cannot_reach_each_other_either_way(lab: Lab) -> None:
    status = {s.name: s.address.split("/")[0] for s in lab.status().servers}
    a_to_b = tcp_from(lab, ALPHA[0], [(status[BETA[0]], 22)])
    b_to_a = tcp_from(lab, BETA[0], [(status[ALPHA[0]], 22), (status[ALPHA[1]], 22)])
    for result in [*a_to_b.values(), *b_to_a.values()]:
        assert result != "open", (a_to_b, b_to_a)
    same_tenant = tcp_from(lab, ALPHA[0], [(status[ALPHA[1]], 22)])
    assert set(same_tenant.values()) == {"open"}, same_tenant


def test_every_tenant_reaches_the_shared_services(lab: Lab) -> None:
    syslog, monitoring = SERVICES.syslog, SERVICES.tcp[0]
    targets = [(str(syslog[0]), syslog[1]), (str(monitoring[0]), monitoring[1])]
    for server in (ALPHA[0], BETA[0]):
        assert set(tcp_from(lab, server, targets).values()) == {"open"}
        marker = f"lab-test-{server}-{time.time_ns()}"
        r = ssh(lab, server, f"logger -n {syslog[0]} -P {syslog[1]} -T {marker}")
        assert r.returncode == 0, r.stderr
        probe = ("import socket;s=socket.socket(type=socket.SOCK_DGRAM);s.settimeout(3);"
                 f"s.sendto(b'\\x1b'+47*b'\\0',('{SERVICES.ntp[0]}',123));"
                 "print(len(s.recv(100)))")
        r = ssh(lab, server, f'python3 -c "{probe}"')
        assert r.stdout.strip() == "48", r.stderr
        deadline = time.monotonic() + 10
        while marker not in lab.paths.services_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        events = [json.loads(ln) for ln in lab.paths.services_log.read_text().splitlines()]
        assert any(marker in e.get("message", "") for e in events), "syslog did not arrive"


def test_objects_one_by_one_as_a_pulumi_provider_would(lab: Lab) -> None:
    from ipaddress import IPv4Interface, IPv4Network

    from faellesdrift.lab import SegmentSpec, ServerSpec
    from tests.lab.conftest import _device

    gamma = SegmentSpec("gamma", (IPv4Network("10.203.10.0/24"), IPv4Network("10.203.0.0/24")))
    assert lab.read_segment("gamma") is None
    made = lab.create_segment(gamma)
    assert made == lab.create_segment(gamma) == lab.read_segment("gamma")
    assert made.gateways == {"10.203.10.0/24": "10.203.10.254", "10.203.0.0/24": "10.203.0.254"}

    server = ServerSpec("gamma-srv01", "gamma", IPv4Interface("10.203.10.11/24"))
    first = lab.create_server(server)
    assert first.running and lab.create_server(server) == first  # nothing made twice
    r = ssh(lab, server.name, "hostname")
    assert r.stdout.strip() == server.name, r.stderr
    isolated = tcp_from(lab, server.name, [(lab.read_server(ALPHA[0]).address.split("/")[0], 22)])
    assert "open" not in isolated.values()
    with pytest.raises(LabError, match="still has servers gamma-srv01"):
        lab.delete_segment("gamma")

    device = _device("gamma-core01", "gamma", "cisco_ios", "10.203.0.1/24", 0)
    dev = lab.create_device(device)
    assert dev.running and lab.create_device(device).port == dev.port
    conn = _connect(lab, device.name)
    assert "hostname gamma-core01" in _running(conn, "cisco_ios")
    conn.disconnect()

    assert lab.delete_device(device.name) and lab.read_device(device.name) is None
    assert not lab.delete_device(device.name)
    assert lab.delete_server(server.name) and lab.read_server(server.name) is None
    assert not lab.delete_server(server.name)
    assert not os.path.exists(f"/run/netns/{SETTINGS.prefix}-srv-{server.name}")
    assert lab.delete_segment("gamma") and lab.read_segment("gamma") is None
    assert not lab.delete_segment("gamma")
    assert all(s.running for s in lab.status().servers)  # the others were not touched


def test_device_configs_and_server_disks_survive_down_and_up(lab: Lab) -> None:
    r = ssh(lab, ALPHA[0], "echo kept > /root/marker")
    assert r.returncode == 0, r.stderr
    name, _, added, _ = PUSH["cisco_ios"]
    lab.down()
    assert lab.leftovers().empty
    lab.up(PLAN)
    conn = _connect(lab, name)
    assert added in _running(conn, "cisco_ios")
    conn.disconnect()
    r = ssh(lab, ALPHA[0], "cat /root/marker")  # same host key: strict checking still passes
    assert r.stdout.strip() == "kept", r.stderr


def test_down_leaves_nothing_behind(lab: Lab) -> None:
    status = lab.status()
    lab.down()
    left = lab.leftovers()
    assert left.empty, left.describe()
    assert not [n for n in os.listdir("/run/netns") if n.startswith(f"{SETTINGS.prefix}-")]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True)
    assert SETTINGS.prefix not in links.stdout
    assert str(lab.paths.root) not in Path("/proc/self/mountinfo").read_text()
    for device in status.devices:
        with pytest.raises(OSError):
            __import__("socket").create_connection((device.host, device.port), timeout=1)
    assert not lab.status().up


def test_down_cleans_a_crashed_lab_without_its_record(lab: Lab) -> None:
    lab.up(PLAN)
    pids = _lab_pids(lab)
    for pid in pids:  # the lab's processes die hard; then its record is lost
        os.kill(pid, signal.SIGKILL)
    lab.paths.state_file.unlink()
    assert not lab.leftovers().empty
    lab.down()
    left = lab.leftovers()
    assert left.empty, left.describe()


def test_a_missing_segment_is_one_clear_error(lab: Lab) -> None:
    with pytest.raises(LabError, match="segment 'alpha' is not up"):
        lab.create_server(PLAN.tenants[0].servers[0])
