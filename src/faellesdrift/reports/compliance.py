"""Compliance per tenant and per control, from per-host result rows (``faellesdrift.results``).

Nothing counts as compliant unless the latest run read and checked it: a host
the run did not reach, or did not include, counts against the percentage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def _untranslated(message: str) -> str:
    return message


@dataclass(frozen=True)
class ControlSummary:
    control: str
    checked: int  # hosts with a verdict for this control
    compliant: int
    kept: int  # hosts where an exception keeps a local value
    failing: tuple[str, ...]  # hosts that are not compliant
    notes: tuple[str, ...] = ()  # first few reasons (missing lines, failed checks)

    @property
    def pct(self) -> float | None:
        return 100.0 * self.compliant / self.checked if self.checked else None


@dataclass(frozen=True)
class LayerSummary:
    """One tenant's hosts of one layer (network devices or servers) in one kind of run."""

    generated_at: str | None
    expected: tuple[str, ...]  # the hosts of this layer in the tenant file
    rows: dict[str, dict]  # host -> its result row (only expected hosts)
    controls: tuple[ControlSummary, ...]
    stale: tuple[str, ...] = ()  # rows for hosts no longer in the tenant file (ignored)
    ok: bool | None = None  # the run's own verdict for this tenant

    @property
    def compliant(self) -> tuple[str, ...]:
        return tuple(h for h in self.expected if self.rows.get(h, {}).get("compliant") is True)

    @property
    def noncompliant(self) -> tuple[str, ...]:
        return tuple(h for h in self.expected if self.rows.get(h, {}).get("compliant") is False)

    @property
    def unreached(self) -> tuple[str, ...]:
        """In the run but failed or unreachable: no verdict."""
        return tuple(h for h in self.expected if h in self.rows
                     and self.rows[h].get("status") in ("failed", "unreachable", "not run")
                     and self.rows[h].get("compliant") is None)

    @property
    def not_checked(self) -> tuple[str, ...]:
        """Not in the run at all, or in it with no verdict for another reason."""
        return tuple(h for h in self.expected if h not in self.rows
                     or (self.rows[h].get("compliant") is None and h not in self.unreached))

    @property
    def pct(self) -> float:
        if not self.expected:
            return 100.0
        return 100.0 * len(self.compliant) / len(self.expected)

    @property
    def complete(self) -> bool:
        """Every expected host was reached and got a verdict."""
        return all(self.rows.get(h, {}).get("compliant") is not None for h in self.expected)

    def describe(self, noun: str, gettext: Callable[[str], str] = _untranslated) -> str:
        """``noun`` is "device" or "server"; the sentence is in the language of ``gettext``."""
        _ = gettext
        nouns = _("devices") if noun == "device" else _("servers") if noun == "server" \
            else f"{noun}s"
        n = len(self.expected)
        if not n:
            return _("no {nouns} in the tenant file").format(nouns=nouns)
        parts = [_("{ok} of {n} {nouns} compliant").format(ok=len(self.compliant), n=n,
                                                          nouns=nouns)]
        if self.noncompliant:
            parts.append(_("{n} not compliant").format(n=len(self.noncompliant)))
        if self.unreached:
            parts.append(_("{n} not reached").format(n=len(self.unreached)))
        if self.not_checked:
            parts.append(_("{n} not checked").format(n=len(self.not_checked)))
        return ", ".join(parts)


@dataclass
class _Acc:
    checked: int = 0
    compliant: int = 0
    kept: int = 0
    failing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _note(host: str, row: dict) -> str:
    bits = []
    for key in ("missing", "extra"):
        lines = row.get(key) or []
        if lines:
            bits.append(f"{key}: {'; '.join(str(x) for x in lines[:3])}")
    if row.get("note"):
        bits.append(str(row["note"]))
    return f"{host}: {' — '.join(bits)}" if bits else host


def summarize(entry: dict | None, expected: list[str] | tuple[str, ...]) -> LayerSummary | None:
    """The tenant's entry of a results kind over the hosts it should cover; None without one."""
    if entry is None:
        return None
    wanted = tuple(expected)
    wanted_set = set(wanted)
    rows: dict[str, dict] = {}
    stale: list[str] = []
    for row in entry.get("hosts", []):
        if not isinstance(row, dict) or not isinstance(row.get("host"), str):
            continue
        if row["host"] in wanted_set:
            rows[row["host"]] = row
        else:
            stale.append(row["host"])
    acc: dict[str, _Acc] = {}
    for host in wanted:
        row = rows.get(host)
        if row is None:
            continue
        for c in row.get("controls") or []:
            if not isinstance(c, dict) or not c.get("control"):
                continue
            a = acc.setdefault(str(c["control"]), _Acc())
            if c.get("source") not in (None, "standard"):
                a.kept += 1
            if c.get("compliant") is None:
                continue
            a.checked += 1
            if c["compliant"] is True:
                a.compliant += 1
            else:
                a.failing.append(host)
                if len(a.notes) < 3:
                    a.notes.append(_note(host, c))
    controls = tuple(ControlSummary(name, a.checked, a.compliant, a.kept, tuple(a.failing),
                                    tuple(a.notes)) for name, a in sorted(acc.items()))
    ok = entry.get("ok")
    return LayerSummary(entry.get("generated_at"), wanted, rows, controls, tuple(sorted(stale)),
                        ok if isinstance(ok, bool) else None)
