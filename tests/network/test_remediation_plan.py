"""Remediation plans on the config tree: kept and mandatory objects are never negated whole."""

from __future__ import annotations

from faellesdrift.estate import Estate
from faellesdrift.network.compliance import check, lines_by_control, parse
from faellesdrift.network.intended import render
from faellesdrift.network.platforms import platform_spec
from faellesdrift.network.remediate import kept_lines, object_key, plan


def _plan(estate: Estate, name: str, running: str) -> list[str]:
    host = estate.host(name)
    spec = platform_spec(host.spec.platform)
    intended = render(estate, host)
    controls = check(spec, running, intended)
    wanted = tuple(line for lines in lines_by_control(spec, parse(spec, intended.text)).values()
                   for line in lines)
    return plan(spec, controls, kept_lines(estate, host), wanted)


def test_an_option_under_a_kept_community_never_deletes_the_community(estate: Estate) -> None:
    running = render(estate, estate.host("odd-fire04")).text + \
        "set snmp community fw-vendor-ro clients 10.0.0.0/8\n"
    assert _plan(estate, "odd-fire04", running) == [
        "delete snmp community fw-vendor-ro clients 10.0.0.0/8"]


def test_an_option_on_the_mandatory_siem_host_never_deletes_the_host(estate: Estate) -> None:
    running = render(estate, estate.host("odd-fire04")).text + \
        "set system syslog host 10.250.0.14 structured-data\n"
    lines = _plan(estate, "odd-fire04", running)
    assert "delete system syslog host 10.250.0.14" not in lines
    assert lines == ["delete system syslog host 10.250.0.14 structured-data"]


def test_junos_deletes_a_rogue_node_once(estate: Estate) -> None:
    running = render(estate, estate.host("odd-fire04")).text + (
        "set system syslog host 192.0.2.9 any any\n"
        "set system syslog host 192.0.2.9 structured-data\n")
    assert _plan(estate, "odd-fire04", running) == ["delete system syslog host 192.0.2.9"]


def test_an_option_on_a_wanted_ios_server_is_never_a_removal(estate: Estate) -> None:
    intended = render(estate, estate.host("aar-core01")).text
    running = intended.replace("ntp server 10.51.0.123", "ntp server 10.51.0.123 prefer")
    lines = _plan(estate, "aar-core01", running)
    assert lines == ["ntp server 10.51.0.123"]  # re-entered with the intended options
    assert not any(line.startswith("no ntp server 10.51.0.123") for line in lines)


def test_ios_name_servers_on_one_line_are_compliant(estate: Estate) -> None:
    host = estate.host("aar-core01")
    intended = render(estate, host)
    servers = [line.split()[-1] for line in intended.text.splitlines()
               if line.startswith("ip name-server ")]
    one_line = "".join(line + "\n" for line in intended.text.splitlines()
                       if not line.startswith("ip name-server "))
    one_line += f"ip name-server {' '.join([*servers, '10.250.0.54'])}\n"
    dns = {c.control: c for c in check(platform_spec("cisco_ios"), one_line, intended)}
    assert dns["net.dns.servers"].extra == ("ip name-server 10.250.0.54",)
    assert not dns["net.dns.servers"].missing


def test_object_keys_keep_vrf_and_drop_options() -> None:
    ios, junos = platform_spec("cisco_ios"), platform_spec("juniper_junos")
    assert object_key(ios, "ntp server vrf MGMT 10.0.0.1 prefer") == "ntp server vrf MGMT 10.0.0.1"
    assert object_key(ios, "ntp server 10.0.0.1 prefer") == "ntp server 10.0.0.1"
    assert object_key(junos, "set system syslog host 10.0.0.9 any any") == \
        "set system syslog host 10.0.0.9"
    assert object_key(ios, "banner motd ^C\nHi\n^C") == "banner motd"


def test_a_single_eos_name_server_in_a_vrf_is_removed_with_its_vrf(estate: Estate) -> None:
    running = render(estate, estate.host("odd-dist02")).text + \
        "ip name-server vrf default 10.27.0.53\n"
    assert _plan(estate, "odd-dist02", running) == ["no ip name-server vrf default 10.27.0.53"]
