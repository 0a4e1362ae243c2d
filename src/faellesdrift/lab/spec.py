"""What the lab should contain: small frozen records, independent of the tenant model.

`plan.plan_from_estate` turns the resolved Estate into a LabPlan; tests build
small plans by hand.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

Platform = Literal["cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos", "aruba_aoscx",
                   "fortinet"]
PLATFORMS: tuple[str, ...] = ("cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos",
                              "aruba_aoscx", "fortinet")


@dataclass(frozen=True)
class ServerSpec:
    name: str
    tenant: str
    address: IPv4Interface  # address with the prefix length of its network
    deviations: tuple[str, ...] = ()  # known ways it starts behind on patching (server_drift)


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
    reserved: tuple[IPv4Address, ...] = ()  # estate addresses the lab gateway must not take


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
        used = [s.address.ip for s in self.servers] + [d.address for d in self.devices]
        return SegmentSpec(self.slug, self.prefixes, tuple(used))


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
        shared = SegmentSpec(SERVICES_SEGMENT, (self.services.prefix,),
                             self.services.addresses())
        return (*(t.segment for t in self.tenants), shared)


@dataclass(frozen=True)
class LabSettings:
    """Knobs that keep two labs on one machine apart (a dev lab and the test lab)."""

    prefix: str = "fd"  # names of namespaces, cgroups, machines start with "<prefix>-"
    device_ports: tuple[int, int] = (42000, 42999)  # inclusive range on 127.0.0.1
    loopback: IPv4Network = field(default_factory=lambda: IPv4Network("127.42.0.0/16"))
    ready_timeout: float = 90.0  # seconds to wait for every server's sshd

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]{0,5}", self.prefix):
            raise ValueError(f"lab prefix {self.prefix!r}: use 1-6 lowercase letters/digits, "
                             "starting with a letter (it goes into 15-character link names)")
        low, high = self.device_ports
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"lab device ports {low}-{high}: use a range within 1024-65535")
        if not self.loopback.subnet_of(IPv4Network("127.0.0.0/8")):
            raise ValueError(f"lab loopback {self.loopback}: must be inside 127.0.0.0/8")

    @classmethod
    def from_env(cls) -> LabSettings:
        """FAELLESDRIFT_LAB_PREFIX, _PORTS (e.g. 42000-42999), _LOOPBACK (e.g. 127.42.0.0/16)."""
        kwargs: dict[str, object] = {}
        if os.environ.get("FAELLESDRIFT_LAB_PREFIX"):
            kwargs["prefix"] = os.environ["FAELLESDRIFT_LAB_PREFIX"]
        if os.environ.get("FAELLESDRIFT_LAB_PORTS"):
            raw = os.environ["FAELLESDRIFT_LAB_PORTS"]
            try:
                low, high = (int(x) for x in raw.split("-"))
            except ValueError:
                raise ValueError(f"FAELLESDRIFT_LAB_PORTS={raw!r}: use LOW-HIGH") from None
            kwargs["device_ports"] = (low, high)
        if os.environ.get("FAELLESDRIFT_LAB_LOOPBACK"):
            kwargs["loopback"] = IPv4Network(os.environ["FAELLESDRIFT_LAB_LOOPBACK"])
        return cls(**kwargs)  # type: ignore[arg-type]
