"""The local lab: emulated network gear and isolated Linux servers for every tenant.

    from faellesdrift import lab
    status = lab.up(plan)            # idempotent; lab.status(); lab.down()

Per object, for Pulumi dynamic providers (create is idempotent, read returns
None when absent, delete returns whether something was removed):
    Lab().create_segment(spec, services) / read_segment(name) / delete_segment(name)
    Lab().create_server(spec) / read_server(name) / delete_server(name)
    Lab().create_device(spec) / read_device(name) / delete_device(name)

How the operator reaches things (all on loopback, nothing leaves the machine):
  servers  ssh -F <state>/lab/ssh_config <name>: a forwarder (netd) listens on
           127.42.0.<n>:22 and connects from the lab's router namespace to the
           server's tenant address; host keys are pinned in <state>/lab/known_hosts.
  devices  127.0.0.1:<port> (netmiko/Nornir), credentials in <state>/lab/credentials.json.
"""

from __future__ import annotations

from pathlib import Path

from faellesdrift.lab.core import Lab, preflight
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths, cache_dir, state_dir
from faellesdrift.lab.records import DeviceRecord, LabStatus, Leftovers, SegmentRecord, ServerRecord
from faellesdrift.lab.spec import (
    SERVICES_SEGMENT,
    DeviceSpec,
    LabPlan,
    LabSettings,
    SegmentSpec,
    ServerSpec,
    ServicesSpec,
    TenantSpec,
)

__all__ = [
    "SERVICES_SEGMENT", "DeviceRecord", "DeviceSpec", "Lab", "LabError", "LabPaths", "LabPlan",
    "LabSettings", "LabStatus", "Leftovers", "SegmentRecord", "SegmentSpec", "ServerRecord",
    "ServerSpec", "ServicesSpec", "TenantSpec", "cache_dir", "device_endpoints", "down",
    "preflight", "state_dir", "status", "up",
]


def up(plan: LabPlan, *, reset: bool = False) -> LabStatus:
    """Bring up the plan's segments, servers and devices (what is up already stays)."""
    return Lab().up(plan, reset=reset)


def status() -> LabStatus:
    return Lab().status()


def down(*, reset: bool = False) -> Leftovers:
    """Remove everything the lab made; `reset` also forgets device configs and server disks."""
    return Lab().down(reset=reset)


def device_endpoints(state: Path | None = None) -> dict[str, tuple[str, int]]:
    """Device name -> (host, port) where the running lab serves it (empty when none)."""
    paths = LabPaths(root=state / "lab", cache=cache_dir() / "lab") if state \
        else LabPaths.default()
    return {d.name: (d.host, d.port) for d in Lab(paths).status().devices if d.running}
