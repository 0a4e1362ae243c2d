"""Per-host results as data. Failures are results, not exceptions.

Every selected device gets exactly one ``DeviceResult``; a ``FleetResult``
summarises them, merges with other shards' results, and gives the CLI its
exit code. Nothing is reported compliant unless it was read and checked in
this run: a host that failed has no compliance verdict at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

from faellesdrift import clock
from faellesdrift.network.redact import redact_lines


class Status(str, Enum):
    OK = "ok"  # read (and, where asked, checked or pushed) with nothing to change
    CHANGED = "changed"  # something changed: a new backup, a verified push
    FAILED = "failed"  # reached, but the job did not complete (auth, timeout, verify)
    UNREACHABLE = "unreachable"  # no SSH session could be opened

    @property
    def bad(self) -> bool:
        return self in (Status.FAILED, Status.UNREACHABLE)


@dataclass(frozen=True)
class ControlResult:
    """One control on one device: compliant, or the lines missing and extra."""

    control: str
    source: str  # "standard" or the id of the exception that keeps a local value
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    exception_status: str | None = None  # active / expiring when source is an exception
    note: str = ""  # e.g. an expired exception whose lines are drift now

    @property
    def compliant(self) -> bool:
        return not self.missing and not self.extra

    def to_dict(self) -> dict[str, Any]:
        return {"control": self.control, "compliant": self.compliant, "source": self.source,
                "exception_status": self.exception_status,
                "missing": redact_lines(self.missing), "extra": redact_lines(self.extra),
                "note": self.note}


@dataclass(frozen=True)
class DeviceResult:
    host: str
    tenant: str
    platform: str
    status: Status
    reason: str = ""  # why it failed, or a short note on what was done
    controls: tuple[ControlResult, ...] = ()  # empty unless compliance was checked
    pushed: tuple[str, ...] = ()  # config lines sent (redacted), or planned in a dry run
    exceptions: tuple[str, ...] = ()  # ids of exceptions that keep local values here
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def checked(self) -> bool:
        return bool(self.controls) and not self.status.bad

    @property
    def compliant(self) -> bool | None:
        """True/False only when read and checked in this run; None otherwise."""
        if not self.checked:
            return None
        return all(c.compliant for c in self.controls)

    def with_status(self, status: Status, reason: str = "") -> DeviceResult:
        return replace(self, status=status, reason=reason or self.reason)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "tenant": self.tenant, "platform": self.platform,
                "status": self.status.value, "reason": self.reason,
                "compliant": self.compliant, "exceptions": list(self.exceptions),
                "controls": [c.to_dict() for c in self.controls],
                "pushed": list(self.pushed), "details": self.details,
                "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class FleetResult:
    command: str
    hosts: tuple[DeviceResult, ...]
    started: datetime = field(default_factory=clock.now)
    finished: datetime | None = None
    target: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(h.status.value for h in self.hosts)
        return {s.value: c.get(s.value, 0) for s in Status}

    @property
    def failed(self) -> tuple[DeviceResult, ...]:
        return tuple(h for h in self.hosts if h.status.bad)

    @property
    def ok(self) -> bool:
        """Everything asked for succeeded on every selected host."""
        return not self.failed

    @property
    def noncompliant(self) -> tuple[DeviceResult, ...]:
        return tuple(h for h in self.hosts if h.compliant is False)

    @property
    def seconds(self) -> float:
        end = self.finished or clock.now()
        return (end - self.started).total_seconds()

    def host(self, name: str) -> DeviceResult:
        return next(h for h in self.hosts if h.host == name)

    def merge(self, other: FleetResult) -> FleetResult:
        """Results of two shards of the same command: one fleet result."""
        if other.command != self.command:
            raise ValueError(f"cannot merge {other.command!r} results into {self.command!r}")
        seen = {h.host for h in self.hosts}
        clash = sorted(h.host for h in other.hosts if h.host in seen)
        if clash:
            raise ValueError(f"shards overlap on {', '.join(clash)}")
        hosts = tuple(sorted((*self.hosts, *other.hosts), key=lambda h: (h.tenant, h.host)))
        ends = [t for t in (self.finished, other.finished) if t]
        return FleetResult(self.command, hosts, min(self.started, other.started),
                           max(ends) if ends else None, self.target,
                           {**self.details, **other.details})

    def summary(self) -> str:
        c = self.counts
        parts = [f"{len(self.hosts)} device(s)"] + [f"{n} {s}" for s, n in c.items() if n]
        checked = [h for h in self.hosts if h.compliant is not None]
        if checked:
            parts.append(f"{sum(h.compliant for h in checked)}/{len(checked)} compliant")
        parts.append(f"{self.seconds:.1f}s")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "target": self.target, "ok": self.ok,
                "counts": self.counts, "summary": self.summary(),
                "started": self.started.isoformat(timespec="seconds"),
                "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
                "details": self.details, "hosts": [h.to_dict() for h in self.hosts]}

    def results_payload(self) -> dict[str, Any]:
        """This run as a ``network.compliance`` payload (faellesdrift.results).

        One entry per tenant with a device in the run; ``ok`` when every one of its
        devices was read, checked and found compliant. Rows carry the documented host
        row fields (lines redacted); pushed lines and details stay out.
        """
        tenants: dict[str, dict[str, Any]] = {}
        for h in self.hosts:
            entry = tenants.setdefault(h.tenant, {"ok": True, "hosts": []})
            entry["hosts"].append({
                "host": h.host, "tenant": h.tenant, "platform": h.platform,
                "status": h.status.value, "reason": h.reason, "compliant": h.compliant,
                "exceptions": list(h.exceptions),
                "controls": [c.to_dict() for c in h.controls]})
            entry["ok"] = entry["ok"] and h.compliant is True
        generated = (self.finished or clock.now()).isoformat(timespec="seconds")
        return {"generated_at": generated, "tenants": tenants}

    def backup_payload(self, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """This backup run as a ``network.backup`` payload (faellesdrift.results).

        Each device's row says whether this run backed it up and when its config was
        last backed up: now, or, for a device that failed now, as ``previous`` (the
        saved ``network.backup`` results) recorded it.
        """
        at = (self.finished or clock.now()).isoformat(timespec="seconds")
        commit = self.details.get("commit") or None
        before = {h["host"]: h.get("last_success")
                  for entry in (previous or {}).get("tenants", {}).values()
                  for h in entry.get("hosts", [])}
        tenants: dict[str, dict[str, Any]] = {}
        for h in self.hosts:
            entry = tenants.setdefault(h.tenant, {"ok": True, "commit": commit, "hosts": []})
            done = not h.status.bad
            entry["hosts"].append({
                "host": h.host, "tenant": h.tenant, "platform": h.platform,
                "status": h.status.value, "reason": h.reason, "backed_up": done,
                "last_success": at if done else before.get(h.host)})
            entry["ok"] = entry["ok"] and done
        return {"generated_at": at, "tenants": tenants}
