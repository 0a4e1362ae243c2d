"""The meter catalog: every meter a usage row may carry, with its unit and kind.

A **level** meter (``gauge``) samples how much is allocated (vCPU, GB, ports);
a period's usage of one subject is the mean of its samples in each month,
summed over the months (unit-months). A **counter** meter counts events
(applied changes); a period's usage is the sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faellesdrift.metering.errors import UsageRejected

Kind = Literal["gauge", "counter"]


@dataclass(frozen=True)
class Meter:
    name: str
    unit: str
    kind: Kind
    description: str

    @property
    def usage_unit(self) -> str:
        return f"{self.unit}-months" if self.kind == "gauge" else self.unit


CATALOG: dict[str, Meter] = {m.name: m for m in [
    Meter("server.count", "server", "gauge", "servers run by the community"),
    Meter("server.vcpu", "vCPU", "gauge", "virtual CPUs allocated to a server"),
    Meter("server.memory_gb", "GB", "gauge", "memory allocated to a server"),
    Meter("server.disk_gb", "GB", "gauge", "disk allocated to a server"),
    Meter("network.device", "device", "gauge", "network devices run by the community"),
    Meter("network.port", "port", "gauge", "ports on those devices"),
    Meter("backup.gb", "GB", "gauge", "disk protected by the shared backup"),
    Meter("endpoint.device", "device", "gauge", "endpoints (counted, run as scoped)"),
    Meter("identity.account", "account", "gauge", "identities (counted, run as scoped)"),
    Meter("inventory.asset", "asset", "gauge",
          "kit known but not under the shared baseline (a tenant's other_assets)"),
    Meter("platform.resource", "resource", "gauge", "platform resources from Pulumi outputs"),
    Meter("change.applied", "change", "counter", "changes applied by network/server runs"),
]}


def meter(name: str, where: str = "") -> Meter:
    try:
        return CATALOG[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise UsageRejected(
            f"{prefix}unknown meter {name!r}; use one of: {', '.join(sorted(CATALOG))}"
        ) from None
