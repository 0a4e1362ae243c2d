"""What the lab should contain: small frozen records, independent of the tenant model.

`plan.plan_from_estate` turns the resolved Estate into a LabPlan; tests build
small plans by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

Platform = Literal["cisco_ios", "arista_eos", "juniper_junos"]
PLATFORMS: tuple[str, ...] = ("cisco_ios", "arista_eos", "juniper_junos")


@dataclass(frozen=True)
class ServerSpec:
    name: str
    tenant: str
    address: IPv4Interface  # address with the prefix length of its network


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    tenant: str
    platform: str
    address: IPv4Address  # management address in the estate (the lab serves it on loopback)
    config: tuple[str, ...]  # running config the device starts from, native syntax
    deviations: tuple[str, ...] = ()  # known ways `config` differs from the standard


@dataclass(frozen=True)
class SegmentSpec:
    """One tenant's L2 segment (or the shared-services segment) in the lab router."""

    name: str  # tenant slug, or SERVICES_SEGMENT
    prefixes: tuple[IPv4Network, ...]


SERVICES_SEGMENT = "shared"


@dataclass(frozen=True)
class ServicesSpec:
    """Shared-service endpoints that every tenant segment may reach."""

    prefix: IPv4Network
    ntp: tuple[IPv4Address, ...]
    dns: tuple[IPv4Address, ...]
    syslog: tuple[IPv4Address, int]
    tcp: tuple[tuple[IPv4Address, int], ...] = ()  # other listeners (monitoring, backup)

    def addresses(self) -> tuple[IPv4Address, ...]:
        found = [*self.ntp, *self.dns, self.syslog[0], *(a for a, _ in self.tcp)]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    prefixes: tuple[IPv4Network, ...]
    servers: tuple[ServerSpec, ...] = ()
    devices: tuple[DeviceSpec, ...] = ()

    @property
    def segment(self) -> SegmentSpec:
        return SegmentSpec(self.slug, self.prefixes)


@dataclass(frozen=True)
class LabPlan:
    tenants: tuple[TenantSpec, ...]
    services: ServicesSpec
    community: str = "lab"

    @property
    def servers(self) -> tuple[ServerSpec, ...]:
        return tuple(s for t in self.tenants for s in t.servers)

    @property
    def devices(self) -> tuple[DeviceSpec, ...]:
        return tuple(d for t in self.tenants for d in t.devices)

    @property
    def segments(self) -> tuple[SegmentSpec, ...]:
        shared = SegmentSpec(SERVICES_SEGMENT, (self.services.prefix,))
        return (*(t.segment for t in self.tenants), shared)


@dataclass(frozen=True)
class LabSettings:
    """Knobs that keep two labs on one machine apart (a dev lab and the test lab)."""

    prefix: str = "fd"  # names of namespaces, cgroups, machines start with "<prefix>-"
    device_ports: tuple[int, int] = (42000, 42999)  # inclusive range on 127.0.0.1
    loopback: IPv4Network = field(default_factory=lambda: IPv4Network("127.42.0.0/16"))
    ready_timeout: float = 60.0  # seconds to wait for every server's sshd
