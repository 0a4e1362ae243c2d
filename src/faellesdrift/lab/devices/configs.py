"""Plausible starting configs: the standard's values with known deviations, per platform.

Each device starts from what its platform would show, carrying the effective
value of every network control (an exception's kept value included), except
for one or two known deviations from the standard — a missing NTP server, a
stray SNMP community "public", ... — recorded so compliance runs can be
checked against them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

NTP, SYSLOG, SNMP = "net.ntp.servers", "net.syslog.siem", "net.snmp.communities"
TACACS, DNS, BANNER = "net.aaa.tacacs", "net.dns.servers", "net.banner.motd"


@dataclass(frozen=True)
class DeviceFacts:
    name: str
    platform: str
    role: str
    site: str
    ports: int
    address: IPv4Interface  # management address with its network's prefix length
    vlans: tuple[tuple[int, str], ...]  # the tenant's networks
    domain: str


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _local(facts: DeviceFacts, last_octet: int) -> str:
    """An address in the device's own management network (an old local service)."""
    return str(facts.address.network.network_address + last_octet)


# control -> change that makes the device deviate, returning what was changed
Deviation = Callable[[dict[str, Any], DeviceFacts], str | None]


def _drop_ntp(v: dict[str, Any], f: DeviceFacts) -> str | None:
    servers = as_list(v.get(NTP))
    if not servers:
        return None
    v[NTP] = servers[:-1]
    return f"{NTP}: missing ntp server {servers[-1]}"


def _stray_public(v: dict[str, Any], f: DeviceFacts) -> str | None:
    v[SNMP] = [*as_list(v.get(SNMP)), "public"]
    return f"{SNMP}: stray community public"


def _local_syslog(v: dict[str, Any], f: DeviceFacts) -> str | None:
    old, local = as_list(v.get(SYSLOG)), _local(f, 250)
    v[SYSLOG] = [local]
    return f"{SYSLOG}: logs to {local} instead of {', '.join(old) or 'the SIEM'}"


def _extra_dns(v: dict[str, Any], f: DeviceFacts) -> str | None:
    local = _local(f, 53)
    v[DNS] = [*as_list(v.get(DNS)), local]
    return f"{DNS}: extra name server {local}"


def _no_banner(v: dict[str, Any], f: DeviceFacts) -> str | None:
    v[BANNER] = None
    return f"{BANNER}: banner missing"


def _drop_tacacs(v: dict[str, Any], f: DeviceFacts) -> str | None:
    servers = as_list(v.get(TACACS))
    if not servers:
        return None
    v[TACACS] = servers[1:]
    return f"{TACACS}: missing tacacs server {servers[0]}"


CATALOG: tuple[tuple[str, Deviation], ...] = (
    (NTP, _drop_ntp), (SNMP, _stray_public), (SYSLOG, _local_syslog), (DNS, _extra_dns),
    (BANNER, _no_banner), (TACACS, _drop_tacacs))


def deviate(values: dict[str, Any], kept: set[str], facts: DeviceFacts,
            index: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Apply the index-th pair of known deviations, skipping controls an exception keeps."""
    out, notes = dict(values), []
    for k in (2 * index, 2 * index + 1):
        control, change = CATALOG[k % len(CATALOG)]
        if control in kept or control not in out:
            continue
        note = change(out, facts)
        if note:
            notes.append(note)
    return out, tuple(notes)


def render(facts: DeviceFacts, values: dict[str, Any]) -> tuple[str, ...]:
    builder = {"cisco_ios": _ios, "arista_eos": _eos, "juniper_junos": _junos}.get(facts.platform)
    if builder is None:
        raise ValueError(f"no starting config for platform {facts.platform!r}")
    return tuple(builder(facts, values))


def _gateway(facts: DeviceFacts) -> IPv4Address:
    return facts.address.network.broadcast_address - 1


def _ios(f: DeviceFacts, v: dict[str, Any]) -> list[str]:
    out = ["version 15.2", "service timestamps debug datetime msec",
           "service timestamps log datetime msec", "service password-encryption",
           f"hostname {f.name}", "boot-start-marker", "boot-end-marker", "aaa new-model",
           "aaa authentication login default group tacacs+ local",
           f"ip domain-name {f.domain}"]
    out += [f"ip name-server {s}" for s in as_list(v.get(DNS))]
    out += ["spanning-tree mode rapid-pvst"]
    for vid, name in f.vlans:
        out += [f"vlan {vid}", f" name {name}"]
    for port in range(1, min(f.ports, 4) + 1):
        out += [f"interface GigabitEthernet1/0/{port}",
                " description uplink" if port == 1 else f" description {f.site} port {port}",
                " switchport mode trunk" if port == 1 else " switchport mode access"]
    mgmt = f.vlans[0][0] if f.vlans else 1
    out += [f"interface Vlan{mgmt}", " description management",
            f" ip address {f.address.ip} {f.address.netmask}",
            f"ip route 0.0.0.0 0.0.0.0 {_gateway(f)}", "ip ssh version 2"]
    out += [f"logging host {s}" for s in as_list(v.get(SYSLOG))]
    out += [f"snmp-server community {c} RO" for c in as_list(v.get(SNMP))]
    out += [f"snmp-server location {f.site}"]
    out += [f"tacacs-server host {s}" for s in as_list(v.get(TACACS))]
    if v.get(BANNER):
        out += ["banner motd ^C", str(v[BANNER]), "^C"]
    out += ["line con 0", " logging synchronous", "line vty 0 4", " transport input ssh"]
    out += [f"ntp server {s}" for s in as_list(v.get(NTP))]
    return out


def _eos(f: DeviceFacts, v: dict[str, Any]) -> list[str]:
    out = ["service routing protocols model multi-agent", f"hostname {f.name}",
           f"ip domain-name {f.domain}"]
    out += [f"ip name-server vrf default {s}" for s in as_list(v.get(DNS))]
    out += [f"ntp server {s}" for s in as_list(v.get(NTP))]
    out += [f"logging host {s}" for s in as_list(v.get(SYSLOG))]
    out += [f"snmp-server location {f.site}"]
    out += [f"snmp-server community {c} ro" for c in as_list(v.get(SNMP))]
    out += [f"tacacs-server host {s}" for s in as_list(v.get(TACACS))]
    out += ["spanning-tree mode mstp"]
    for vid, name in f.vlans:
        out += [f"vlan {vid}", f"   name {name}"]
    for port in range(1, min(f.ports, 4) + 1):
        out += [f"interface Ethernet{port}",
                "   description uplink" if port == 1 else f"   description {f.site} port {port}"]
    out += ["interface Management1", f"   ip address {f.address}", "ip routing",
            f"ip route 0.0.0.0/0 {_gateway(f)}"]
    if v.get(BANNER):
        out += ["banner motd", str(v[BANNER]), "EOF"]
    out += ["management api http-commands", "   no shutdown"]
    return out


def _junos(f: DeviceFacts, v: dict[str, Any]) -> list[str]:
    out = [f"system host-name {f.name}", f"system domain-name {f.domain}",
           "system services ssh", "system services netconf ssh"]
    if v.get(BANNER):
        out += [f'system login message "{v[BANNER]}"']
    out += [f"system name-server {s}" for s in as_list(v.get(DNS))]
    out += [f"system ntp server {s}" for s in as_list(v.get(NTP))]
    out += [f"system syslog host {s} any any" for s in as_list(v.get(SYSLOG))]
    out += ["system syslog file messages any notice"]
    out += [f"system tacplus-server {s}" for s in as_list(v.get(TACACS))]
    out += [f'snmp location "{f.site}"']
    out += [f"snmp community {c} authorization read-only" for c in as_list(v.get(SNMP))]
    for port in range(min(f.ports, 3)):
        out += [f'interfaces ge-0/0/{port} description "{f.site} port {port}"']
    out += [f"interfaces fxp0 unit 0 family inet address {f.address}",
            f"routing-options static route 0.0.0.0/0 next-hop {_gateway(f)}"]
    if f.role == "firewall":
        out += ["security zones security-zone trust interfaces ge-0/0/1.0",
                "security zones security-zone untrust interfaces ge-0/0/0.0"]
    return out
