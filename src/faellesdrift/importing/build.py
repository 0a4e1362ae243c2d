"""Records → server and network-device entries, networks, endpoint count and the gap list."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from faellesdrift.importing.gaps import ImportGap
from faellesdrift.importing.mapping import (
    SUPPORTED_OS,
    SUPPORTED_PLATFORMS,
    Mapping,
    kind_of,
    role_of,
)
from faellesdrift.importing.records import NetworkHint, Record
from faellesdrift.model import BASELINE_OS

SERVER_DEFAULTS = {"vcpu": 2, "memory_gb": 4, "disk_gb": 50}
DEFAULT_PORTS = 24
_NAME_BAD = re.compile(r"[^a-z0-9-]+")
_PORTS_IN_MODEL = re.compile(r"-(\d{2})(?!\d)|(\d{2})-?port", re.IGNORECASE)


@dataclass
class Existing:
    """What is already defined: this tenant's file and the other tenants."""

    names: dict[str, dict] = field(default_factory=dict)  # host -> its entry in the file
    addresses: dict[str, str] = field(default_factory=dict)  # address -> host of this tenant
    foreign_names: dict[str, str] = field(default_factory=dict)  # host -> other tenant
    foreign_addresses: dict[str, str] = field(default_factory=dict)
    networks: list[IPv4Network] = field(default_factory=list)
    vlans: set[int] = field(default_factory=set)


@dataclass
class ImportPlan:
    servers: list[dict] = field(default_factory=list)
    devices: list[dict] = field(default_factory=list)
    other_assets: list[dict] = field(default_factory=list)  # kit outside the baseline
    networks: list[dict] = field(default_factory=list)
    endpoints: int = 0
    gaps: list[ImportGap] = field(default_factory=list)
    addresses: list[IPv4Address] = field(default_factory=list)


def host_name(raw: str) -> str:
    name = raw.strip().casefold().split(".")[0]
    name = _NAME_BAD.sub("-", name.translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})))
    return name.strip("-")[:63].strip("-")


def _address(raw: str) -> IPv4Address | None:
    try:
        return IPv4Address(int.from_bytes(socket.inet_pton(socket.AF_INET, raw.split("/")[0]),
                                          "big"))
    except OSError:
        return None


def _int(raw: str) -> int | None:
    digits = re.match(r"^\s*(\d+(?:[.,]\d+)?)", raw)
    if not digits:
        return None
    value = float(digits.group(1).replace(",", "."))
    return int(-(-value // 1)) if value > 0 else None


def build(records: list[Record], mapping: Mapping, existing: Existing, pool: IPv4Network,
          hints: list[NetworkHint], vlan_range: tuple[int, int]) -> ImportPlan:
    plan = ImportPlan()
    seen_names: dict[str, str] = {}
    seen_addresses: dict[IPv4Address, str] = {}
    endpoint_rows: list[str] = []
    for r in records:
        kind = kind_of(r.get("kind"))
        if kind == "endpoint":
            endpoint_rows.append(r.ref)
            continue
        raw_name = r.get("name")
        if not raw_name:
            plan.gaps.append(ImportGap(r.ref, "skipped", "no host name; fill in the name column"))
            continue
        name = host_name(raw_name)
        if not name:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"host name {raw_name!r} has no letters or "
                             "digits; fix the name"))
            continue
        if name in seen_names:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"duplicate of {seen_names[name]} "
                                 f"({name}); remove one of the two rows"))
            continue
        if name in existing.foreign_names:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"{name} is already a host of tenant "
                                 f"{existing.foreign_names[name]!r}; rename it"))
            continue
        address = _address(r.get("address"))
        if address is None:
            what = repr(r.get("address")) if r.get("address") else "no address"
            plan.gaps.append(ImportGap(r.ref, "skipped", f"{name}: {what} is not an IPv4 address "
                                 "such as 10.66.10.11; fix the address in the source"))
            continue
        if address in seen_addresses:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"{name}: address {address} is also "
                                 f"{seen_addresses[address]}; fix one of them"))
            continue
        if str(address) in existing.foreign_addresses:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"{name}: address {address} is used by "
                                 f"{existing.foreign_addresses[str(address)]}; fix it"))
            continue
        if address not in pool:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"{name}: address {address} is outside the "
                                 f"tenant's pool {pool}; renumber it or ask for a pool change"))
            continue
        if name in existing.names:
            seen_names[name] = r.ref
            entry = _entry(r, name, address, kind, mapping, [])
            theirs = existing.names[name]
            differ = [f"{k}: file {theirs.get(k)!r}, source {v!r}" for k, v in (entry or {}).items()
                      if k in theirs and str(theirs[k]) != str(v)]
            plan.gaps.append(ImportGap(r.ref, "kept", f"{name} is already in the tenant file and is "
                                 "kept as it is" + (f"; differs: {'; '.join(differ)}"
                                                    if differ else "")))
            continue
        if str(address) in existing.addresses:
            plan.gaps.append(ImportGap(r.ref, "skipped", f"{name}: address {address} is "
                                 f"{existing.addresses[str(address)]} in the tenant file"))
            continue
        if name != raw_name:
            plan.gaps.append(ImportGap(r.ref, "fixed", f"host name {raw_name!r} written as {name!r}"))
        entry = _entry(r, name, address, kind, mapping, plan.gaps)
        if entry is None:
            continue
        seen_names[name] = r.ref
        seen_addresses[address] = name
        if "reason" in entry:
            plan.other_assets.append(entry)
            continue
        plan.addresses.append(address)
        (plan.servers if "os" in entry else plan.devices).append(entry)
    _unstored(records, plan)
    if endpoint_rows:
        plan.endpoints = len(endpoint_rows)
        plan.gaps.append(ImportGap(f"{len(endpoint_rows)} rows ({endpoint_rows[0]} …)", "counted",
                             f"{len(endpoint_rows)} endpoint row(s) counted into endpoints.count"))
    _networks(plan, existing, pool, hints, vlan_range)
    return plan


def _unstored(records: list[Record], plan: ImportPlan) -> None:
    """Fields a tenant file keeps elsewhere or not at all: said once, with the rows."""
    ends = [f"{r.get('name') or r.ref} ({r.get('contract_end')})" for r in records
            if r.get("contract_end")]
    if ends:
        plan.gaps.append(ImportGap(f"{len(ends)} rows", "kept", "contract end dates are not written: "
                             "add each contract under `contracts:` (id, supplier, covers, ends, "
                             f"yearly_dkk, early_exit_dkk): {', '.join(ends[:10])}"
                             f"{' …' if len(ends) > 10 else ''}"))
    owners = sorted({r.get("owner") for r in records if r.get("owner")})
    if owners:
        plan.gaps.append(ImportGap("owner column", "kept", "owners are not stored in tenant files "
                             f"(found: {', '.join(owners[:10])}); keep them in the source"))


def _entry(r: Record, name: str, address: IPv4Address, kind: str | None, mapping: Mapping,
           gaps: list[ImportGap]) -> dict | None:
    os_text = r.get("os")
    os_name = mapping.operating_system(os_text) if os_text else None
    platform, family = (None, None)
    if kind != "server" and not os_name:
        platform, family = mapping.platform(r.get("platform"), r.get("model"), os_text)
    if kind == "other":
        gaps.append(ImportGap(r.ref, "skipped", f"{name}: type {r.get('kind')!r} is not imported "
                        "(servers, network devices and endpoints are); map it with a known "
                        "type or leave it out"))
        return None
    if os_name:
        return _server(r, name, address, os_name, gaps)
    if platform:
        return _device(r, name, address, platform, gaps)
    if family:
        reason = (f"{family} is not under the shared network baseline (it covers "
                  f"{', '.join(SUPPORTED_PLATFORMS)})")
        gaps.append(ImportGap(r.ref, "inventory", f"{name}: written under other_assets: {reason}"))
        entry = {"name": name, "kind": "network_device",
                 "platform": r.get("model") or r.get("platform") or family,
                 "address": str(address), "role": r.get("role"), "site": r.get("site"),
                 "reason": reason}
        return {k: v for k, v in entry.items() if v}
    shown = os_text or r.get("platform") or r.get("model") or "(none)"
    gaps.append(ImportGap(r.ref, "skipped", f"{name}: unknown platform/OS {shown!r}; supported "
                    f"operating systems: {', '.join(SUPPORTED_OS)}; platforms: "
                    f"{', '.join(SUPPORTED_PLATFORMS)} (map it with --map: os: or platforms:)"))
    return None


def _server(r: Record, name: str, address: IPv4Address, os_name: str, gaps: list[ImportGap]) -> dict:
    entry: dict = {"name": name, "address": str(address), "os": os_name,
                   "role": r.get("role") or "server"}
    if not r.get("role"):
        gaps.append(ImportGap(r.ref, "defaulted", f"{name}: no role; written as 'server'"))
    missing = []
    for key, default in SERVER_DEFAULTS.items():
        value = _int(r.get(key))
        if value is None:
            missing.append(f"{key}={default}")
            value = default
        entry[key] = value
    if missing:
        gaps.append(ImportGap(r.ref, "defaulted", f"{name}: missing {', '.join(missing)} set; "
                        "correct them in the file"))
    crit = r.get("criticality").casefold()
    crit = {"lav": "low", "middel": "medium", "høj": "high", "hoej": "high"}.get(crit, crit)
    if crit in ("low", "medium", "high"):
        entry["criticality"] = crit
    if os_name not in BASELINE_OS:
        gaps.append(ImportGap(r.ref, "inventory", f"{name}: {os_name} is inventory only, not under "
                        f"the shared baseline (the playbooks cover {', '.join(BASELINE_OS)})"))
    return entry


def _device(r: Record, name: str, address: IPv4Address, platform: str, gaps: list[ImportGap]) -> dict:
    role = role_of(r.get("role"), r.get("kind"), name)
    if role is None:
        role = "access"
        gaps.append(ImportGap(r.ref, "defaulted", f"{name}: no network role; written as 'access'"))
    ports = _int(r.get("ports"))
    if ports is None:
        match = _PORTS_IN_MODEL.search(r.get("model"))
        ports = int(next(g for g in match.groups() if g)) if match else None
    if ports is None:
        ports = DEFAULT_PORTS
        gaps.append(ImportGap(r.ref, "defaulted", f"{name}: no port count; written as {ports}"))
    site = r.get("site")
    if not site:
        site = "unknown"
        gaps.append(ImportGap(r.ref, "defaulted", f"{name}: no site; written as 'unknown'"))
    entry = {"name": name, "platform": platform, "address": str(address), "role": role,
             "site": site, "ports": ports}
    for key in ("model", "serial", "os_version"):  # as the device or the list reports them
        if r.get(key):
            entry[key] = r.get(key)
    return entry


def _networks(plan: ImportPlan, existing: Existing, pool: IPv4Network, hints: list[NetworkHint],
              vlan_range: tuple[int, int]) -> None:
    """Declare a network for every address outside the declared ones: the source's prefix when
    it has one (NetBox), else the /24 around the address, with a free VLAN."""
    declared = list(existing.networks)
    vlans = set(existing.vlans)
    free = (v for v in range(vlan_range[0], vlan_range[1] + 1) if v not in vlans)
    hinted = []
    for h in hints:
        try:
            net = IPv4Network(h.prefix)
        except ValueError:
            plan.gaps.append(ImportGap(h.ref, "skipped", f"prefix {h.prefix!r} is not an IPv4 prefix"))
            continue
        hinted.append((net, h))
    for address in plan.addresses:
        if any(address in n for n in declared):
            continue
        hint = next(((n, h) for n, h in hinted if address in n and n.subnet_of(pool)
                     and not any(n.overlaps(d) for d in declared)), None)
        net = hint[0] if hint else IPv4Network(f"{address}/24", strict=False)
        vlan = hint[1].vlan if hint and hint[1].vlan and hint[1].vlan not in vlans \
            and vlan_range[0] <= hint[1].vlan <= vlan_range[1] else next(free)
        vlans.add(vlan)
        label = host_name(hint[1].name) if hint and hint[1].name else ""
        name = label or f"net-{str(net.network_address).replace('.', '-')}"
        declared.append(net)
        plan.networks.append({"name": name, "vlan": vlan, "prefix": str(net)})
        plan.gaps.append(ImportGap(hint[1].ref if hint else f"network {net}", "added",
                             f"network {name} {net} (VLAN {vlan}) declared for the imported "
                             "addresses; check its name and VLAN"))
