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


def test_an_option_on_the_mandatory_siem_host_is_understood(estate: Estate) -> None:
    running = render(estate, estate.host("odd-fire04")).text + \
        "set system syslog host 10.250.0.14 structured-data\n"
    assert _plan(estate, "odd-fire04", running) == []  # the host stays, with its option
    siem = _controls(estate, "odd-fire04", running)["net.syslog.siem"]
    assert siem.compliant and "structured-data" in siem.note


def test_junos_deletes_a_rogue_node_once(estate: Estate) -> None:
    running = render(estate, estate.host("odd-fire04")).text + (
        "set system syslog host 192.0.2.9 any any\n"
        "set system syslog host 192.0.2.9 structured-data\n")
    assert _plan(estate, "odd-fire04", running) == ["delete system syslog host 192.0.2.9"]


def test_an_option_on_a_wanted_ios_server_is_understood(estate: Estate) -> None:
    intended = render(estate, estate.host("aar-core01")).text
    running = intended.replace("ntp server 10.51.0.123", "ntp server 10.51.0.123 prefer")
    assert _plan(estate, "aar-core01", running) == []
    assert _controls(estate, "aar-core01", running)["net.ntp.servers"].compliant


def _controls(estate: Estate, name: str, running: str):
    host = estate.host(name)
    return {c.control: c for c in check(platform_spec(host.spec.platform), running,
                                        render(estate, host))}


def _swap(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_ios_servers_in_a_vrf_stay_in_their_vrf(estate: Estate) -> None:
    intended = render(estate, estate.host("aar-core01")).text  # ntp 10.51.0.123 (AAR-EX-001)
    running = _swap(intended, "ntp server 10.51.0.123", "ntp server vrf MGMT 10.51.0.123 prefer")
    running = _swap(running, "logging host 10.250.0.14", "logging host 10.250.0.14 vrf MGMT")
    running = _swap(running, "ip name-server 10.250.0.53", "ip name-server vrf MGMT 10.250.0.53")
    by = _controls(estate, "aar-core01", running)
    assert all(by[c].compliant for c in ("net.ntp.servers", "net.syslog.siem",
                                         "net.dns.servers")), by
    assert "ntp server vrf MGMT 10.51.0.123 prefer" in by["net.ntp.servers"].note
    assert _plan(estate, "aar-core01", running) == []
    rogue = running + "ntp server vrf MGMT 192.0.2.123\n"
    assert _plan(estate, "aar-core01", rogue) == ["no ntp server vrf MGMT 192.0.2.123"]


def test_eos_ntp_server_in_a_vrf_stays(estate: Estate) -> None:
    intended = render(estate, estate.host("odd-dist02")).text
    running = intended.replace("ntp server 10.250.0.", "ntp server vrf MGMT 10.250.0.")
    assert "ntp server vrf MGMT 10.250.0.123" in running
    assert _controls(estate, "odd-dist02", running)["net.ntp.servers"].compliant
    assert _plan(estate, "odd-dist02", running) == []


def test_iosxe_named_tacacs_servers_are_read_as_servers(estate: Estate) -> None:
    intended = render(estate, estate.host("aar-core01")).text
    running = _swap(intended, "tacacs-server host 10.250.0.49\n",
                    "aaa group server tacacs+ ISE\n server name ISE1\n"
                    " server-private 192.0.2.50 key 7 0822455D0A16\n"
                    " ip vrf forwarding Mgmt-vrf\n"
                    "tacacs server ISE1\n address ipv4 10.250.0.49\n key 7 070C285F4D06\n"
                    " single-connection\n"
                    "tacacs server OLD\n address ipv4 192.0.2.49\n")
    tacacs = _controls(estate, "aar-core01", running)["net.aaa.tacacs"]
    assert not tacacs.missing  # 10.250.0.49 is there, as a named server
    assert tacacs.extra == ("aaa group server tacacs+ ISE server-private 192.0.2.50 vrf Mgmt-vrf",
                            "tacacs server OLD address ipv4 192.0.2.49")
    assert not any("0822455D0A16" in line or "070C285F4D06" in line for line in tacacs.extra)
    assert _plan(estate, "aar-core01", running) == [
        "aaa group server tacacs+ ISE", " no server-private 192.0.2.50", " exit",
        "no tacacs server OLD"]


def test_nxos_name_servers_on_one_line_with_their_vrf(mixed_estate: Estate) -> None:
    intended = render(mixed_estate, mixed_estate.host("odd-nx06")).text
    running = _swap(intended, "ip name-server 10.250.0.53 use-vrf management",
                    "ip name-server 10.250.0.53 10.27.0.53 use-vrf management")
    dns = _controls(mixed_estate, "odd-nx06", running)["net.dns.servers"]
    assert not dns.missing and dns.extra == ("ip name-server 10.27.0.53 use-vrf management",)


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
