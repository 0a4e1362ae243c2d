"""Segments: one bridge per tenant and one for shared services, in a lab-made router namespace.

  server netns ──veth── bridge <prefix>b<i> ─┐
                                            router netns (<prefix>-router, forwarding on)
  services netns ─veth─ bridge <prefix>b<j> ─┘

Isolation is policy routing in the router namespace: traffic arriving from a
tenant bridge may only be routed by table SERVICES_TABLE (routes to the shared
services); everything else from that bridge is `prohibit`ed (ICMP
administratively prohibited: the sender gets EHOSTUNREACH at once). Traffic
from the shared segment, and traffic the router namespace itself sends (the
ssh forwarder), uses the main table and reaches every tenant.
Nothing in the lab has a route off the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from faellesdrift.lab import netns
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.spec import SERVICES_SEGMENT, SegmentSpec, ServicesSpec

SERVICES_TABLE = "100"


@dataclass(frozen=True)
class Names:
    prefix: str

    @property
    def router(self) -> str:
        return f"{self.prefix}-router"

    @property
    def services(self) -> str:
        return f"{self.prefix}-svc"

    def bridge(self, index: int) -> str:
        return f"{self.prefix}b{index}"

    @property
    def services_veth(self) -> str:
        return f"{self.prefix}svc"

    def server_ns(self, server: str) -> str:
        return f"{self.prefix}-srv-{server}"

    def server_veth(self, index: int) -> str:
        return f"{self.prefix}h{index}"


def gateway(prefix: IPv4Network, reserved: set[IPv4Address]) -> IPv4Address:
    """The highest host address of prefix not used by anything in the estate."""
    if prefix.num_addresses < 4:
        raise LabError(f"prefix {prefix} is too small for a lab segment (need at least /30)")
    candidate = prefix.broadcast_address - 1
    while candidate in reserved:
        candidate -= 1
        if candidate == prefix.network_address:
            raise LabError(f"prefix {prefix}: no free address left for the lab gateway")
    return candidate


def ensure_router(names: Names) -> None:
    netns.add(names.router)
    netns.sysctl(names.router, "net.ipv4.ip_forward", "1")


def create(names: Names, spec: SegmentSpec, index: int, reserved: set[IPv4Address],
           services: ServicesSpec | None = None) -> dict[str, object]:
    """Make (or repair) the segment's bridge; returns its state record."""
    ensure_router(names)
    bridge = names.bridge(index)
    gateways = {str(p): str(gateway(p, reserved)) for p in spec.prefixes}
    if bridge not in netns.links(names.router):
        netns.ip(names.router, "link", "add", bridge, "type", "bridge")
    cmds = [f"addr replace {gw}/{IPv4Network(p).prefixlen} dev {bridge}"
            for p, gw in gateways.items()]
    cmds.append(f"link set {bridge} up")
    netns.ip_batch(names.router, cmds)
    if spec.name == SERVICES_SEGMENT:
        if services is None:
            raise LabError("the shared-services segment needs the plan's shared services")
        _attach_services(names, bridge, spec, services, gateways)
    else:
        _isolate(names, bridge, index)
    return {"index": index, "bridge": bridge, "prefixes": [str(p) for p in spec.prefixes],
            "gateways": gateways}


def _isolate(names: Names, bridge: str, index: int) -> None:
    pref = 1000 + 2 * index
    for p in (pref, pref + 1):
        netns.ip(names.router, "rule", "del", "pref", str(p), check=False)
    netns.ip_batch(names.router, [
        f"rule add pref {pref} iif {bridge} lookup {SERVICES_TABLE}",
        f"rule add pref {pref + 1} iif {bridge} prohibit",
    ])


def _attach_services(names: Names, bridge: str, spec: SegmentSpec, services: ServicesSpec,
                     gateways: dict[str, str]) -> None:
    prefix = services.prefix
    netns.add(names.services)
    veth = names.services_veth
    if veth not in netns.links(names.router):
        if "eth0" in netns.links(names.services):
            netns.ip(names.services, "link", "del", "eth0")
        netns.ip(names.router, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                 "netns", names.services)
    router_cmds = [f"link set {veth} master {bridge}", f"link set {veth} up",
                   f"route replace {prefix} dev {bridge} table {SERVICES_TABLE}"]
    svc_cmds = []
    for addr in services.addresses():
        inside = addr in prefix
        plen = prefix.prefixlen if inside else 32
        svc_cmds.append(f"addr replace {addr}/{plen} dev eth0")
        if not inside:
            router_cmds.append(f"route replace {addr}/32 dev {bridge}")
            router_cmds.append(f"route replace {addr}/32 dev {bridge} table {SERVICES_TABLE}")
    svc_cmds += ["link set eth0 up", f"route replace default via {gateways[str(prefix)]}"]
    netns.ip_batch(names.router, router_cmds)
    netns.ip_batch(names.services, svc_cmds)


def delete(names: Names, record: dict[str, object], services: bool) -> None:
    """Remove the segment's bridge and rules (its servers must be gone already)."""
    if not netns.exists(names.router):
        return
    bridge = str(record["bridge"])
    if services:
        netns.delete(names.services)
        netns.ip(names.router, "route", "flush", "table", SERVICES_TABLE, check=False)
    else:
        pref = 1000 + 2 * int(record["index"])  # type: ignore[call-overload]
        for p in (pref, pref + 1):
            netns.ip(names.router, "rule", "del", "pref", str(p), check=False)
    if bridge in netns.links(names.router):
        netns.ip(names.router, "link", "del", bridge)
