"""One asset from any source, in canonical field names, before it is checked."""

from __future__ import annotations

from dataclasses import dataclass, field

FIELDS = ("name", "address", "kind", "os", "platform", "model", "role", "site", "owner",
          "contract_end", "vcpu", "memory_gb", "disk_gb", "ports", "criticality", "backup",
          "serial", "os_version")


@dataclass
class Record:
    ref: str  # "row 12" of a sheet, "devices[3]" of an export
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


@dataclass
class NetworkHint:
    """A prefix a source declares (NetBox prefixes with their VLAN)."""

    ref: str
    prefix: str
    vlan: int | None
    name: str
