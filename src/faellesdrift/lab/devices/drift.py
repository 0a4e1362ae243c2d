"""Known deviations from the standard that lab devices start with.

Each device starts from its rendered config (faellesdrift.device_config, the
effective value of every network control, an exception's kept value included),
except for one or two known deviations — a missing NTP server, a stray SNMP
community "public", ... — applied to the control values before rendering and
recorded, so compliance runs can be checked against them.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

NTP, SYSLOG, SNMP = "net.ntp.servers", "net.syslog.siem", "net.snmp.communities"
TACACS, DNS, BANNER = "net.aaa.tacacs", "net.dns.servers", "net.banner.motd"


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _local(network: IPv4Network, last_octet: int) -> str:
    """An address in the device's own management network (an old local service)."""
    return str(network.network_address + last_octet)


# control -> change that makes the device deviate, returning what was changed
Deviation = Callable[[dict[str, Any], IPv4Network], str | None]


def _drop_ntp(v: dict[str, Any], net: IPv4Network) -> str | None:
    servers = as_list(v.get(NTP))
    if not servers:
        return None
    v[NTP] = servers[:-1]
    return f"{NTP}: missing ntp server {servers[-1]}"


def _stray_public(v: dict[str, Any], net: IPv4Network) -> str | None:
    v[SNMP] = [*as_list(v.get(SNMP)), "public"]
    return f"{SNMP}: stray community public"


def _local_syslog(v: dict[str, Any], net: IPv4Network) -> str | None:
    old, local = as_list(v.get(SYSLOG)), _local(net, 250)
    v[SYSLOG] = [local]
    return f"{SYSLOG}: logs to {local} instead of {', '.join(old) or 'the SIEM'}"


def _extra_dns(v: dict[str, Any], net: IPv4Network) -> str | None:
    local = _local(net, 53)
    v[DNS] = [*as_list(v.get(DNS)), local]
    return f"{DNS}: extra name server {local}"


def _no_banner(v: dict[str, Any], net: IPv4Network) -> str | None:
    v[BANNER] = None
    return f"{BANNER}: banner missing"


def _drop_tacacs(v: dict[str, Any], net: IPv4Network) -> str | None:
    servers = as_list(v.get(TACACS))
    if not servers:
        return None
    v[TACACS] = servers[1:]
    return f"{TACACS}: missing tacacs server {servers[0]}"


CATALOG: tuple[tuple[str, Deviation], ...] = (
    (NTP, _drop_ntp), (SNMP, _stray_public), (SYSLOG, _local_syslog), (DNS, _extra_dns),
    (BANNER, _no_banner), (TACACS, _drop_tacacs))


def deviate(values: dict[str, Any], kept: set[str], network: IPv4Network,
            index: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Apply the index-th pair of known deviations, skipping controls an exception keeps.

    ``network`` is the device's management network (where a local service would be).
    """
    out, notes = dict(values), []
    for k in (2 * index, 2 * index + 1):
        control, change = CATALOG[k % len(CATALOG)]
        if control in kept or control not in out:
            continue
        note = change(out, network)
        if note:
            notes.append(note)
    return out, tuple(notes)
