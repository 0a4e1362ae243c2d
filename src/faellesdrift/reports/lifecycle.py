"""End of life per server for the report: each server's OS dated by the core's lifecycle
table (``faellesdrift.lifecycle``, where the sources and the two dates are explained)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from faellesdrift.lifecycle import LIFECYCLE, Lifecycle, status_of
from faellesdrift.reports.i18n import N_

#: status → (label, badge colour)
STATUS = {
    "supported": (N_("supported"), "ok"),
    "security only": (N_("security fixes only"), "info"),
    "ending": (N_("security updates end within a year"), "warn"),
    "end of life": (N_("end of life: no security updates"), "bad"),
    "unknown": (N_("no lifecycle data"), ""),
}


@dataclass(frozen=True)
class ServerLife:
    host: str
    os: str
    life: Lifecycle | None
    status: str
    days_left: int | None  # to the end of security updates

    def to_dict(self) -> dict:
        return {"host": self.host, "os": self.os, "status": self.status,
                "days_left": self.days_left,
                "security_ends": self.life.security_ends.isoformat() if self.life else None,
                "source": self.life.source if self.life else None}


def servers(tenant, today: date) -> list[ServerLife]:
    """Each server of the tenant with the lifecycle of its operating system on ``today``."""
    out = []
    for s in tenant.servers:
        status, left = status_of(s.os, today)
        out.append(ServerLife(s.name, s.os, LIFECYCLE.get(s.os), status, left))
    return out


def counts(items: list[ServerLife]) -> dict[str, int]:
    return {k: sum(x.status == k for x in items) for k in STATUS}
