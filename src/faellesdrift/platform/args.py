"""What one TenantEnvironment contains: typed, frozen args resolved from the Estate.

``tenant_args(estate, slug)`` is the only place the platform layer asks the
estate its one question (``estate.effective(control, host)``); the component
turns the answer into resources and never looks at tenant files itself.

Platform controls used here:
  platform.metering.tags         the tag keys every resource carries (mandatory)
  platform.tenant.isolation      value = peer tenants an exception allows (default [])
  platform.backup.enrolment      every server enrolled in the shared backup (default true)
  platform.monitoring.enrolment  every host enrolled in the shared monitoring (default true)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from faellesdrift.errors import ConfigError
from faellesdrift.estate import Estate, KeptException
from faellesdrift.model import Quota, Tenant

METERING_TAGS = "platform.metering.tags"
ISOLATION = "platform.tenant.isolation"
BACKUP = "platform.backup.enrolment"
MONITORING = "platform.monitoring.enrolment"

SHARED_TENANT = "shared"  # the tenant tag of community-wide resources (shared services)

# meter tag per resource kind: which catalog meters the resource is settled under
METERS: Mapping[str, tuple[str, ...]] = {
    "segment": ("platform.resource",),
    "server": ("server.count", "server.vcpu", "server.memory_gb", "server.disk_gb"),
    "device": ("network.device", "network.port"),
    "access": ("platform.resource",),
    "backup": ("backup.gb",),
    "monitoring": ("platform.resource",),
    "shared": ("platform.resource",),
}


def cost_center(community: str, code: str) -> str:
    """The tenant's account in the community's settlement: ``<community>-<kommunekode>``.

    The tenant model has no cost-center field, so it is derived, stable and unique.
    """
    return f"{_slug(community)}-{code}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "community"


@dataclass(frozen=True)
class Kept:
    """An exception that keeps a local value on a host (active or expiring, never expired)."""

    id: str
    control: str
    status: str  # active | expiring
    expires: str

    @classmethod
    def of(cls, k: KeptException) -> Kept:
        return cls(k.record.id, k.record.control, k.status.value, str(k.record.expires))


@dataclass(frozen=True)
class Tags:
    tenant: str
    tenant_code: str
    cost_center: str
    community: str
    meter: tuple[str, ...]
    exceptions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str]:
        out = {"tenant": self.tenant, "tenant_code": self.tenant_code,
               "cost_center": self.cost_center, "community": self.community,
               "meter": ",".join(self.meter)}
        if self.exceptions:
            out["exceptions"] = ",".join(self.exceptions)
        return out


@dataclass(frozen=True)
class Enrolment:
    """Effective value of an enrolment control for one host, and where it came from."""

    enrolled: bool
    source: str  # "standard" or the exception id


@dataclass(frozen=True)
class SegmentArgs:
    name: str
    vlan: int
    prefix: str
    purpose: str = ""


@dataclass(frozen=True)
class ServerArgs:
    name: str
    network: str
    address: str  # with the prefix length of its network, e.g. 10.51.10.11/24
    os: str
    role: str
    vcpu: int
    memory_gb: int
    disk_gb: int
    criticality: str
    backup_class: str  # none | daily | hourly
    backup: Enrolment
    monitoring: Enrolment
    kept: tuple[Kept, ...] = ()
    lab: bool = False  # realised as a lab server (stack lab)


@dataclass(frozen=True)
class DeviceArgs:
    name: str
    network: str
    platform: str
    address: str
    role: str
    site: str
    ports: int
    monitoring: Enrolment
    kept: tuple[Kept, ...] = ()
    lab: bool = False
    seed: tuple[str, ...] = ()  # the lab device's first running config (never diffed)
    seed_deviations: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeerRule:
    """One host may reach one peer tenant because an active exception says so."""

    host: str
    peer: str
    exception: str
    status: str
    expires: str


@dataclass(frozen=True)
class ServiceEndpoint:
    service: str
    host: str
    port: int
    protocol: str


@dataclass(frozen=True)
class TenantEnvironmentArgs:
    slug: str
    code: str
    name: str
    community: str
    cost_center: str
    tag_keys: tuple[str, ...]  # from platform.metering.tags
    quota: Quota
    scope: Mapping[str, str]  # service class -> shared | local | planned
    segments: tuple[SegmentArgs, ...]
    servers: tuple[ServerArgs, ...]
    devices: tuple[DeviceArgs, ...]
    shared_services: tuple[ServiceEndpoint, ...]
    peers: tuple[PeerRule, ...] = ()
    retain_kept: bool = True  # kept resources also survive a deletion (retain_on_delete)
    reserved: tuple[str, ...] = field(default=())  # every host address (lab gateways avoid them)

    def tags(self, kind: str, kept: tuple[Kept, ...] = ()) -> Tags:
        return Tags(self.slug, self.code, self.cost_center, self.community, METERS[kind],
                    tuple(sorted({k.id for k in kept})))


@dataclass(frozen=True)
class SharedServicesArgs:
    community: str
    prefix: str
    ntp: tuple[str, ...]
    dns: tuple[str, ...]
    syslog: ServiceEndpoint
    tcp: tuple[ServiceEndpoint, ...]  # monitoring, backup, TACACS+ …

    def tags(self) -> Tags:
        return Tags(SHARED_TENANT, "000", cost_center(self.community, "shared"), self.community,
                    METERS["shared"])


@dataclass(frozen=True)
class LabRealisation:
    """Which of a tenant's hosts stack `lab` starts in the lab, and the devices' seed configs."""

    servers: frozenset[str] = frozenset()
    seeds: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)


# ------------------------------------------------------------------ from the estate


def tag_keys(estate: Estate) -> tuple[str, ...]:
    control = estate.standards.control(METERING_TAGS)
    if control is None:
        raise ConfigError(f"community.yaml: controls has no {METERING_TAGS!r}; add it "
                          "(mandatory, default [tenant, cost_center, meter])")
    keys = control.default
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(f"community.yaml: {METERING_TAGS} default must be a list of tag "
                          "names, e.g. [tenant, cost_center, meter]")
    return tuple(keys)


def enrolment(estate: Estate, control: str, host: str) -> Enrolment:
    if estate.standards.control(control) is None:
        return Enrolment(True, "standard")  # no such control in this community: enrol
    eff = estate.effective(control, host)
    if not isinstance(eff.value, bool):
        raise ConfigError(f"{control} for {host}: value {eff.value!r} (from {eff.source}) must "
                          "be true or false")
    return Enrolment(eff.value, eff.source)


def _kept(estate: Estate, host: str) -> tuple[Kept, ...]:
    return tuple(sorted((Kept.of(k) for k in estate.exceptions_for(host)), key=lambda k: k.id))


def _network_of(tenant: Tenant, name: str, address: object) -> tuple[str, str]:
    for net in tenant.networks:
        if address in net.prefix:
            return net.name, f"{address}/{net.prefix.prefixlen}"
    raise ConfigError(f"tenants/{tenant.slug}.yaml: {name} has address {address}, in none of "
                      "the tenant's networks; declare the network under networks:")


def peers(estate: Estate, tenant: Tenant) -> tuple[PeerRule, ...]:
    """Tenant-to-tenant rules: only what an active exception on platform.tenant.isolation allows."""
    if estate.standards.control(ISOLATION) is None:
        return ()
    rules: list[PeerRule] = []
    for host in sorted(tenant.hostnames):
        eff = estate.effective(ISOLATION, host)
        if eff.exception is None:
            continue  # the standard: deny every other tenant
        value = eff.value if isinstance(eff.value, list) else [eff.value]
        for peer in value:
            if peer not in estate.slugs or peer == tenant.slug:
                raise ConfigError(
                    f"tenants/{tenant.slug}.yaml: exception {eff.source} ({ISOLATION}) allows "
                    f"peer {peer!r}, which is not another tenant; use a tenant slug "
                    f"({', '.join(s for s in estate.slugs if s != tenant.slug)})")
            k = eff.exception
            rules.append(PeerRule(host, str(peer), k.record.id, k.status.value,
                                  str(k.record.expires)))
    return tuple(rules)


def shared_endpoints(estate: Estate) -> tuple[ServiceEndpoint, ...]:
    s = estate.standards.shared_services
    out = [ServiceEndpoint("ntp", str(a), 123, "udp") for a in s.ntp]
    out += [ServiceEndpoint("dns", str(a), 53, "udp") for a in s.dns]
    out += [ServiceEndpoint(name, str(e.host), e.port, e.protocol)
            for name, e in (("syslog", s.syslog), ("monitoring", s.monitoring),
                            ("backup", s.backup))]
    return tuple(out)


def shared_services_args(estate: Estate) -> SharedServicesArgs:
    s = estate.standards.shared_services
    return SharedServicesArgs(
        community=estate.standards.community, prefix=str(s.prefix),
        ntp=tuple(str(a) for a in s.ntp), dns=tuple(str(a) for a in s.dns),
        syslog=ServiceEndpoint("syslog", str(s.syslog.host), s.syslog.port, s.syslog.protocol),
        tcp=tuple(ServiceEndpoint(n, str(e.host), e.port, e.protocol)
                  for n, e in (("monitoring", s.monitoring), ("backup", s.backup))))


def tenant_args(estate: Estate, slug: str, *, lab: LabRealisation | None = None,
                retain_kept: bool = True) -> TenantEnvironmentArgs:
    """Everything the TenantEnvironment of ``slug`` needs, resolved from the estate."""
    t = estate.tenant(slug)
    lab = lab or LabRealisation()
    q = estate.standards.quota_for(slug)
    servers = []
    for s in t.servers:
        network, address = _network_of(t, s.name, s.address)
        servers.append(ServerArgs(
            name=s.name, network=network, address=address, os=s.os, role=s.role,
            vcpu=s.vcpu, memory_gb=s.memory_gb, disk_gb=s.disk_gb, criticality=s.criticality,
            backup_class=s.backup, backup=enrolment(estate, BACKUP, s.name),
            monitoring=enrolment(estate, MONITORING, s.name), kept=_kept(estate, s.name),
            lab=s.name in lab.servers))
    devices = []
    for d in t.network_devices:
        network, address = _network_of(t, d.name, d.address)
        seed, deviations = lab.seeds.get(d.name, ((), ()))
        devices.append(DeviceArgs(
            name=d.name, network=network, platform=d.platform, address=address, role=d.role,
            site=d.site, ports=d.ports, monitoring=enrolment(estate, MONITORING, d.name),
            kept=_kept(estate, d.name), lab=d.name in lab.seeds, seed=seed,
            seed_deviations=deviations))
    return TenantEnvironmentArgs(
        slug=t.slug, code=t.code, name=t.name, community=estate.standards.community,
        cost_center=cost_center(estate.standards.community, t.code),
        tag_keys=tag_keys(estate), quota=q,
        scope={name: entry.mode for name, entry in t.scope.items()},
        segments=tuple(SegmentArgs(n.name, n.vlan, str(n.prefix), n.purpose or "")
                       for n in t.networks),
        servers=tuple(servers), devices=tuple(devices), shared_services=shared_endpoints(estate),
        peers=peers(estate, t), retain_kept=retain_kept,
        reserved=tuple(sorted({str(s.address) for s in t.servers}
                              | {str(d.address) for d in t.network_devices})))

