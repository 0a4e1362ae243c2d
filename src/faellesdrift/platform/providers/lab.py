"""Lab providers: stack `lab` makes its resources real in the local lab.

Each provider calls the lab API (idempotent create, read → None when absent,
delete → whether something went): segments are the tenant's L2 segment in the
lab router, servers are nspawn hosts, devices are emulated by the lab's device
emulator. Which lab (state dir, prefix, ports, loopback) is fixed when the
resource is created and travels with it in the stack (the pickled provider),
so `destroy` removes it from the same lab even if the environment changed.

Segment changes and removals of one provider process go through one lock: the
lab has its own file lock per call, but a segment update reads the tenant's
segment and writes it back (read-modify-write), and that must not interleave; a
removal may end with `lab down`. Servers and devices are created without it: the
lab holds its lock only while it records and starts an object and waits for the
boot outside it, so the engine's parallel steps (and other stacks' providers)
overlap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

from faellesdrift.lab import (
    SERVICES_SEGMENT,
    DeviceSpec,
    Lab,
    LabError,
    LabPaths,
    LabSettings,
    SegmentSpec,
    ServerSpec,
    ServicesSpec,
)
from faellesdrift.platform.providers.base import RecordProvider

_LOCK = threading.Lock()


@dataclass(frozen=True)
class LabTarget:
    """Where the lab lives: the state dir and cache of Settings, the lab's own knobs."""

    state_dir: str
    cache_dir: str
    prefix: str
    device_ports: tuple[int, int]
    loopback: str

    @classmethod
    def from_env(cls, state_dir: Path, cache_dir: Path) -> LabTarget:
        s = LabSettings.from_env()
        return cls(str(state_dir), str(cache_dir), s.prefix, s.device_ports, str(s.loopback))

    def lab(self) -> Lab:
        return Lab(LabPaths.under(Path(self.state_dir), Path(self.cache_dir)),
                   LabSettings(prefix=self.prefix, device_ports=tuple(self.device_ports),
                               loopback=IPv4Network(self.loopback)))


class _LabProvider(RecordProvider):
    target = "lab"

    def __init__(self, where: LabTarget) -> None:
        super().__init__()
        self.where = where


def _tidy(lab: Lab) -> None:
    """After the stack removed the lab's last object: `lab down` (the router namespace and
    daemons have no delete of their own in the lab API). Call with _LOCK held."""
    status = lab.status()
    if not (status.segments or status.servers or status.devices):
        lab.down()


#: what the lab says when its liveness check ran in a spawn's first moments (see _again)
_SPAWN_RACES = ("stopped while booting", "lab netd exited", "lab emulator exited")
_RETRIES = (1.0, 3.0)  # seconds before each further attempt


def _again(call: Callable[[], Any]) -> Any:
    """A lab create, asked again when the lab reports a process it just started as dead.

    Work-around for races in the lab (faellesdrift.lab), seen on a loaded machine: a new
    server is `sh -c '… exec systemd-nspawn …'` and the boot wait checks the pid's argv for
    the lab's marker, which fails before the exec (the nspawn went on running); a daemon
    (netd, the device emulator) can be signalled with SIGHUP before it has set its handler,
    which ends it. The lab's creates are idempotent: a further call finds the process alive
    and waits for it, or starts it again.
    """
    for pause in (*_RETRIES, None):
        try:
            return call()
        except LabError as exc:
            if pause is None or not any(race in str(exc) for race in _SPAWN_RACES):
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


def _prefix_key(p: str) -> tuple[int, int]:
    n = IPv4Network(p)
    return int(n.network_address), n.prefixlen


class LabSegmentProvider(_LabProvider):
    """One tenant network = one prefix on the tenant's lab segment (bridge + isolation rules)."""

    def _apply(self, lab: Lab, tenant: str, prefixes: set[str], reserved: list[str]) -> None:
        spec = SegmentSpec(tenant, tuple(IPv4Network(p) for p in sorted(prefixes, key=_prefix_key)),
                           tuple(IPv4Address(a) for a in reserved))
        _again(lambda: lab.create_segment(spec))

    def realise(self, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        tenant, prefix = props["tenant"], props["prefix"]
        with _LOCK:
            lab = self.where.lab()
            current = lab.read_segment(tenant)
            prefixes = set(current.prefixes if current else ()) | {prefix}
            self._apply(lab, tenant, prefixes, list(props.get("reserved") or ()))
            rec = lab.read_segment(tenant)
        if rec is None:
            raise LabError(f"lab segment {tenant} is not up after create")
        return {"target": "lab", "bridge": rec.bridge, "gateway": rec.gateways.get(prefix)}

    def remove(self, props: dict[str, Any]) -> None:
        tenant, prefix = props["tenant"], props["prefix"]
        with _LOCK:
            lab = self.where.lab()
            current = lab.read_segment(tenant)
            if current is None:
                return
            rest = set(current.prefixes) - {prefix}
            if rest:
                self._apply(lab, tenant, rest, list(props.get("reserved") or ()))
            else:
                lab.delete_segment(tenant)
                _tidy(lab)

    def observe(self, props: dict[str, Any]) -> dict[str, Any] | None:
        rec = self.where.lab().read_segment(props["tenant"])
        if rec is None or props["prefix"] not in rec.prefixes:
            return None
        return {"target": "lab", "bridge": rec.bridge, "gateway": rec.gateways.get(props["prefix"])}


class LabSharedProvider(_LabProvider):
    """The shared-services segment: NTP, DNS, syslog and TCP listeners every tenant may reach."""

    @staticmethod
    def _services(props: dict[str, Any]) -> ServicesSpec:
        return ServicesSpec(
            prefix=IPv4Network(props["prefix"]),
            ntp=tuple(IPv4Address(a) for a in props["ntp"]),
            dns=tuple(IPv4Address(a) for a in props["dns"]),
            syslog=(IPv4Address(props["syslog"]["host"]), int(props["syslog"]["port"])),
            tcp=tuple((IPv4Address(e["host"]), int(e["port"])) for e in props["tcp"]))

    def realise(self, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        services = self._services(props)
        spec = SegmentSpec(SERVICES_SEGMENT, (services.prefix,), services.addresses())
        with _LOCK:
            lab = self.where.lab()
            rec = _again(lambda: lab.create_segment(spec, services))
        return {"target": "lab", "bridge": rec.bridge, "gateway": rec.gateways.get(props["prefix"])}

    def remove(self, props: dict[str, Any]) -> None:
        with _LOCK:
            lab = self.where.lab()
            lab.delete_segment(SERVICES_SEGMENT)
            _tidy(lab)

    def observe(self, props: dict[str, Any]) -> dict[str, Any] | None:
        rec = self.where.lab().read_segment(SERVICES_SEGMENT)
        return None if rec is None else {"target": "lab", "bridge": rec.bridge,
                                         "gateway": rec.gateways.get(props["prefix"])}


class LabServerProvider(_LabProvider):
    """A server placement; with ``lab: true`` it is also a running lab server (nspawn)."""

    def realise(self, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        if not props.get("lab"):
            if old and old.get("lab"):
                with _LOCK:
                    self.where.lab().delete_server(props["name"])
            return {"target": "record", "lab": "not started in the lab (labServersPerTenant)"}
        spec = ServerSpec(props["name"], props["tenant"], IPv4Interface(props["address"]))
        lab = self.where.lab()
        rec = _again(lambda: lab.create_server(spec))
        return {"target": "lab", "ssh_host": rec.ssh_host, "ssh_port": rec.ssh_port,
                "running": rec.running, "netns": rec.netns}

    def remove(self, props: dict[str, Any]) -> None:
        if props.get("lab"):
            with _LOCK:
                self.where.lab().delete_server(props["name"])

    def observe(self, props: dict[str, Any]) -> dict[str, Any] | None:
        if not props.get("lab"):
            return super().observe(props)
        rec = self.where.lab().read_server(props["name"])
        if rec is None:
            return None
        return {"target": "lab", "ssh_host": rec.ssh_host, "ssh_port": rec.ssh_port,
                "running": rec.running, "netns": rec.netns}


class LabDeviceProvider(_LabProvider):
    """A network device registration; with ``lab: true`` the lab emulates it on loopback."""

    def realise(self, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        if not props.get("lab"):
            if old and old.get("lab"):
                with _LOCK:
                    self.where.lab().delete_device(props["name"])
            return {"target": "record", "lab": "not emulated in the lab"}
        spec = DeviceSpec(name=props["name"], tenant=props["tenant"], platform=props["platform"],
                          address=IPv4Interface(props["address"]).ip,
                          config=tuple(props.get("seed") or ()),
                          deviations=tuple(props.get("seed_deviations") or ()))
        lab = self.where.lab()
        rec = _again(lambda: lab.create_device(spec))
        return {"target": "lab", "host": rec.host, "port": rec.port, "running": rec.running}

    def remove(self, props: dict[str, Any]) -> None:
        if props.get("lab"):
            with _LOCK:
                self.where.lab().delete_device(props["name"])

    def observe(self, props: dict[str, Any]) -> dict[str, Any] | None:
        if not props.get("lab"):
            return super().observe(props)
        rec = self.where.lab().read_device(props["name"])
        if rec is None:
            return None
        return {"target": "lab", "host": rec.host, "port": rec.port, "running": rec.running}


class LabAccessProvider(_LabProvider):
    """The access policy: the lab router already denies tenant-to-tenant traffic per segment;
    this checks the tenant's segment (and so its isolation rules) is in place.

    The lab has no API to open a route between two tenants, so peer rules that an
    exception allows are recorded, not applied in the lab (status says so).
    """

    def realise(self, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        rec = self.where.lab().read_segment(props["tenant"])
        if rec is None:
            raise LabError(f"access policy {props['tenant']}: the tenant's lab segment is not up "
                           "(create its network segments first)")
        status: dict[str, Any] = {"target": "lab", "isolated": True, "bridge": rec.bridge}
        if props.get("peers"):
            status["peer_routes"] = "recorded only: the lab cannot open tenant-to-tenant routes"
        return status
