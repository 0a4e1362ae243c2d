"""From the resolved Estate to a LabPlan: the only lab module that knows the tenant model.

- one segment per tenant (its networks' prefixes), one shared-services segment;
- servers: every server, or the first N per tenant; each keeps its estate address;
- servers start with known patch drift (lab/server_drift.py): a pending security
  update on some, a reboot due on others;
- devices: every network device, starting from its config as the core renders
  it (faellesdrift.device_config: the effective control values, exceptions' kept
  values included) with one or two known deviations from the standard applied
  (devices/drift.py).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from faellesdrift.device_config import CONTROLS, ControlValueError, render
from faellesdrift.errors import ConfigError
from faellesdrift.estate import Estate
from faellesdrift.lab import server_drift
from faellesdrift.lab.devices import drift
from faellesdrift.lab.devices.store import seed_lines
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.spec import (
    PLATFORMS,
    DeviceSpec,
    LabPlan,
    ServerSpec,
    ServicesSpec,
    TenantSpec,
)
from faellesdrift.model import BASELINE_OS, NetworkDevice, Server, Tenant

TACACS_PORT = 49


def plan_from_estate(estate: Estate, servers_per_tenant: int | None = None,
                     tenants: list[str] | None = None) -> LabPlan:
    """The lab for these tenants (default: all) with at most N servers each (default: all)."""
    if servers_per_tenant is not None and servers_per_tenant < 0:
        raise LabError(f"--servers-per-tenant {servers_per_tenant}: use 0 or more")
    chosen = estate.subset(tenants) if tenants else estate
    return LabPlan(
        tenants=tuple(_tenant(estate, t, servers_per_tenant, estate.slugs.index(t.slug))
                      for t in chosen.tenants),
        services=_services(estate),
        community=estate.standards.community,
    )


def _interface(tenant: Tenant, name: str, address: IPv4Address) -> IPv4Interface:
    for net in tenant.networks:
        if address in net.prefix:
            return IPv4Interface(f"{address}/{net.prefix.prefixlen}")
    raise LabError(f"{tenant.slug}: {name} has address {address}, in none of the tenant's "
                   "networks; add the network to tenants/" + tenant.slug + ".yaml")


def _tenant(estate: Estate, tenant: Tenant, limit: int | None, position: int) -> TenantSpec:
    chosen = _pick(estate, tenant.servers, limit)
    servers = tuple(ServerSpec(s.name, tenant.slug, _interface(tenant, s.name, s.address),
                               server_drift.choose(position, i))
                    for i, s in enumerate(chosen))
    devices = tuple(_device(estate, tenant, d, i) for i, d in enumerate(tenant.network_devices))
    return TenantSpec(tenant.slug, tuple(n.prefix for n in tenant.networks), servers, devices)


def _pick(estate: Estate, servers: list[Server], limit: int | None) -> list[Server]:
    """At most ``limit`` servers: those an exception names first (active or expired), so a
    small lab shows kept values, and standard values returning, end to end; then in file
    order. The choice does not depend on the date, so the lab stays the same as time passes.

    Lab servers are Linux containers: a server whose OS the Linux baseline does not cover
    (Windows) is inventory only and never becomes one."""
    servers = [s for s in servers if s.os in BASELINE_OS]
    if limit is None:
        return list(servers)
    named = {h for k in estate.exceptions() for h in k.record.hosts}
    kept = [s for s in servers if s.name in named]
    return (kept + [s for s in servers if s not in kept])[:limit]


def _device(estate: Estate, tenant: Tenant, device: NetworkDevice, index: int) -> DeviceSpec:
    if device.platform not in PLATFORMS:
        raise LabError(f"{tenant.slug}: {device.name} is {device.platform}, which the lab does "
                       f"not emulate (supported: {', '.join(PLATFORMS)})")
    values, kept = _effective(estate, device.name)
    network = _interface(tenant, device.name, device.address).network
    values, deviations = drift.deviate(values, kept, network, index)
    try:
        text = render(estate, estate.host(device.name), overrides=values).text
    except ControlValueError as exc:
        raise LabError(f"{tenant.slug}: {device.name} cannot be seeded: {exc}") from None
    return DeviceSpec(name=device.name, tenant=tenant.slug, platform=device.platform,
                      address=device.address, config=seed_lines(device.platform, text),
                      deviations=deviations)


def _effective(estate: Estate, host: str) -> tuple[dict[str, Any], set[str]]:
    """Each network control's effective value for host, and which ones an exception keeps."""
    values: dict[str, Any] = {}
    kept: set[str] = set()
    for control in CONTROLS:
        try:
            eff = estate.effective(control, host)
        except ConfigError:
            continue  # the community's catalog has no such control: the device omits it
        values[control] = eff.value
        if eff.source != "standard":
            kept.add(control)
    return values, kept


def _services(estate: Estate) -> ServicesSpec:
    shared = estate.standards.shared_services
    tcp = [(shared.monitoring.host, shared.monitoring.port),
           (shared.backup.host, shared.backup.port)]
    tacacs = estate.standards.control(drift.TACACS)
    for addr in drift.as_list(tacacs.default if tacacs else None):
        try:
            ip = IPv4Address(addr)
        except ValueError:
            continue
        if ip in shared.prefix:
            tcp.append((ip, TACACS_PORT))
    return ServicesSpec(prefix=shared.prefix, ntp=tuple(shared.ntp), dns=tuple(shared.dns),
                        syslog=(shared.syslog.host, shared.syslog.port), tcp=tuple(tcp))
