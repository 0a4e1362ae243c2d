"""What the lab API returns: plain frozen records, JSON-ready through asdict()."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SegmentRecord:
    name: str
    bridge: str
    prefixes: tuple[str, ...]
    gateways: dict[str, str]  # prefix -> the lab router's address in it


@dataclass(frozen=True)
class ServerRecord:
    name: str
    tenant: str
    address: str  # tenant address with prefix length, inside the lab
    netns: str
    ssh_host: str  # loopback address the forwarder listens on
    ssh_port: int
    running: bool
    host_key: str
    deviations: tuple[str, ...] = ()  # patch drift planted at creation (server_drift)


@dataclass(frozen=True)
class DeviceRecord:
    name: str
    tenant: str
    platform: str
    address: str  # management address in the estate
    host: str  # where the emulator serves it
    port: int
    running: bool
    config_file: str
    deviations: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabStatus:
    prefix: str
    state_dir: str
    segments: tuple[SegmentRecord, ...] = ()
    servers: tuple[ServerRecord, ...] = ()
    devices: tuple[DeviceRecord, ...] = ()
    processes: dict[str, bool] = field(default_factory=dict)  # daemon -> running
    files: dict[str, str] = field(default_factory=dict)  # ssh_config, known_hosts, ...

    @property
    def up(self) -> bool:
        return any(s.running for s in self.servers) or any(d.running for d in self.devices)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "up": self.up}


@dataclass(frozen=True)
class Leftovers:
    """Everything on the machine that carries the lab's prefix (empty after `down`)."""

    netns: tuple[str, ...] = ()
    cgroups: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    processes: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.netns or self.cgroups or self.mounts or self.processes)

    def describe(self) -> str:
        parts = [f"{k}: {', '.join(map(str, v))}" for k, v in asdict(self).items() if v]
        return "; ".join(parts) or "nothing"
