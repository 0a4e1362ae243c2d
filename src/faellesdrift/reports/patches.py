"""Patch state per server, from the results of ``faellesdrift servers facts``, and its trend.

The facts are data from elsewhere (results kind ``servers.facts``): each value is
read defensively and shown as it is. A server of the tenant file that the last
run did not reach (or that is not in the lab) is listed as not gathered, so the
page never suggests a server is patched when nobody looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from faellesdrift.model import BASELINE_OS
from faellesdrift.reports.i18n import N_

NOT_IN_RUN = N_("not in the last facts run")
NOT_LINUX = N_("the facts run covers the Linux servers only")

#: state → (label, badge colour)
STATE = {
    "patched": (N_("patched"), "ok"),
    "security updates pending": (N_("security updates pending"), "bad"),
    "restart due": (N_("restart due"), "warn"),
    "not gathered": (N_("not gathered"), ""),
    "unreachable": (N_("unreachable"), "bad"),
}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class PatchRow:
    host: str
    state: str  # a key of STATE
    reason: str = ""
    os: str = ""
    security: tuple[str, ...] = ()  # "sudo 1.9.13p3-1+deb12u4+fdlab1"
    other_updates: int = 0
    reboot_required: bool | None = None
    reboot_packages: tuple[str, ...] = ()
    kernel: str = ""
    kernel_date: date | None = None
    kernel_age_days: int | None = None
    uptime_days: float | None = None
    security_ends: date | None = None
    eol_status: str = "unknown"
    lists_updated: str | None = None

    def to_dict(self) -> dict:
        return {"host": self.host, "state": self.state, "reason": self.reason, "os": self.os,
                "security_updates": list(self.security), "other_updates": self.other_updates,
                "reboot_required": self.reboot_required,
                "kernel": self.kernel, "kernel_age_days": self.kernel_age_days,
                "uptime_days": self.uptime_days,
                "security_ends": self.security_ends.isoformat() if self.security_ends else None,
                "eol_status": self.eol_status, "lists_updated": self.lists_updated}


def _row(host: str, h: dict) -> PatchRow:
    status = str(h.get("status") or "")
    if status != "ok":
        return PatchRow(host, "unreachable" if status == "unreachable" else "not gathered",
                        reason=str(h.get("reason") or status)[:300])
    pending = [p for p in h.get("pending") or [] if isinstance(p, dict)]
    security = tuple(f"{p.get('package')} {p.get('candidate')}" for p in pending
                     if p.get("security") is True)
    reboot = h.get("reboot_required") if isinstance(h.get("reboot_required"), bool) else None
    state = ("security updates pending" if security else "restart due" if reboot
             else "patched")
    uptime = h.get("uptime_days")
    return PatchRow(
        host, state, os=str(h.get("os") or ""), security=security,
        other_updates=len(pending) - len(security), reboot_required=reboot,
        reboot_packages=tuple(str(p) for p in h.get("reboot_packages") or []),
        kernel=str(h.get("kernel") or ""), kernel_date=_day(h.get("kernel_date")),
        kernel_age_days=_int(h.get("kernel_age_days")),
        uptime_days=float(uptime) if isinstance(uptime, (int, float)) else None,
        security_ends=_day(h.get("security_ends")),
        eol_status=str(h.get("eol_status") or "unknown"),
        lists_updated=str(h.get("lists_updated")) if h.get("lists_updated") else None)


def rows(servers: list[tuple[str, str]], entry: dict | None) -> list[PatchRow]:
    """One row per server (name, OS as the tenant file says) in file order, from the tenant's
    ``servers.facts`` entry; a reason (to translate) for each server it does not have."""
    found = {str(h.get("host")): h for h in (entry or {}).get("hosts") or []
             if isinstance(h, dict)}
    return [_row(name, found[name]) if name in found
            else PatchRow(name, "not gathered",
                          reason=NOT_IN_RUN if os in BASELINE_OS else NOT_LINUX)
            for name, os in servers]


def counts(items: list[PatchRow]) -> dict[str, int]:
    out = {k: sum(x.state == k for x in items) for k in STATE}
    out["gathered"] = sum(x.state not in ("not gathered", "unreachable") for x in items)
    out["security_updates"] = sum(len(x.security) for x in items)
    out["reboot_required"] = sum(x.reboot_required is True for x in items)
    return out


def trend(points: list[dict], limit: int = 12) -> tuple[list[str], dict[str, list[int | None]]]:
    """Run days (the day's last run) and, per day, the servers with security updates pending,
    waiting for a restart, and patched (from ``results.history``)."""
    last = {str(p.get("at", ""))[:10]: p for p in points}
    days = sorted(d for d in last if d)[-limit:]

    def series(key: str) -> list[int | None]:
        return [_int(last[d].get(key)) for d in days]

    return days, {"security_pending": series("security_pending"),
                  "reboot_required": series("reboot_required"),
                  "patched": series("compliant")}
