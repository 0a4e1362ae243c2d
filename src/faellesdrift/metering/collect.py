"""Collectors: read the estate, Pulumi stack outputs and the audit log; return usage rows.

Each collector is a function ``(context) -> Collected``. They only read: the
store writes (``store.ingest``), one transaction per collector. Every row is
checked before any collector's rows are written, so bad input writes nothing.

Pulumi stack outputs
--------------------
The platform's outputs artefact (``faellesdrift.platform_outputs``: one file per
environment, one entry per stack) holds each stack's output named ``metering``, a list of
samples::

    [{"tenant": "aarhus", "meter": "platform.resource", "subject": "aar-vnet", "quantity": 12},
     {"tenant": "odder", "meter": "backup.gb", "subject": "odd-vault", "quantity": 830.5}]

``tenant`` is a tenant slug, ``meter`` a catalog meter, ``quantity`` a number ≥ 0
(the level at the time of collection); ``subject`` defaults to the environment name.
Rows are sourced ``pulumi:<environment>``, whichever stack of it wrote them. No
artefact yet: "no Pulumi outputs yet"; an unreadable one stops the collection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from faellesdrift import platform_outputs
from faellesdrift.estate import Estate
from faellesdrift.metering.errors import UsageRejected
from faellesdrift.metering.meters import meter
from faellesdrift.metering.periods import Period
from faellesdrift.metering.usage import UsageRow, check_rows, usage_row

#: audit results that mean "a change was applied"
APPLIED_RESULTS = frozenset({"changed", "applied"})


@dataclass(frozen=True)
class CollectionContext:
    estate: Estate
    period: Period  # one month
    state_dir: Path
    audit_log: Path

    @property
    def sample_day(self) -> date:
        """Level meters are sampled today, or on the month's last day for a past month."""
        return min(self.estate.today, self.period.end)


@dataclass(frozen=True)
class Collected:
    source: str
    rows: list[UsageRow] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    where: str = "usage"


Collector = Callable[[CollectionContext], list[Collected]]


def collect_estate(ctx: CollectionContext) -> list[Collected]:
    """Allocations declared in the tenant files, sampled once per day."""
    day = ctx.sample_day
    rows: list[UsageRow] = []
    for t in ctx.estate.tenants:
        for s in t.servers:
            rows += [usage_row("estate", day, t.slug, "server.count", s.name, 1),
                     usage_row("estate", day, t.slug, "server.vcpu", s.name, s.vcpu),
                     usage_row("estate", day, t.slug, "server.memory_gb", s.name, s.memory_gb),
                     usage_row("estate", day, t.slug, "server.disk_gb", s.name, s.disk_gb)]
            if s.backup != "none":
                rows.append(usage_row("estate", day, t.slug, "backup.gb", s.name, s.disk_gb))
        for d in t.network_devices:
            rows += [usage_row("estate", day, t.slug, "network.device", d.name, 1),
                     usage_row("estate", day, t.slug, "network.port", d.name, d.ports)]
        rows += [usage_row("estate", day, t.slug, "inventory.asset", a.name, 1)
                 for a in t.other_assets]
        rows.append(usage_row("estate", day, t.slug, "endpoint.device", "endpoints",
                              t.endpoints.count))
        rows.append(usage_row("estate", day, t.slug, "identity.account", "identities",
                              t.identities.count))
    return [Collected("estate", rows, where="estate (tenants/*.yaml)")]


def collect_pulumi(ctx: CollectionContext) -> list[Collected]:
    try:
        environments = platform_outputs.read_all(ctx.state_dir)
    except platform_outputs.PlatformOutputsMissing as exc:
        return [Collected("pulumi", notes=(f"no Pulumi outputs yet ({exc})",))]
    except platform_outputs.PlatformOutputsError as exc:
        raise UsageRejected(str(exc)) from None
    out = []
    for env in environments:
        stacks = env.metering()
        if not stacks:
            out.append(Collected(f"pulumi:{env.environment}", notes=(
                f"{env.path.name}: no stack exports a `metering` output; nothing collected",)))
        for stack, samples in stacks:
            out.append(_pulumi_samples(env.path, env.environment, stack, samples, ctx))
    return out


def _pulumi_samples(path: Path, environment: str, stack_name: str, samples: object,
                    ctx: CollectionContext) -> Collected:
    stack = environment
    if not isinstance(samples, list):
        raise UsageRejected(f"{path} [{stack_name}.metering]: must be a list of "
                            "{tenant, meter, subject, quantity} objects")
    known = set(ctx.estate.slugs)
    rows = []
    day = ctx.sample_day
    for i, s in enumerate(samples):
        where = f"{path} [{stack_name}.metering[{i}]"
        if not isinstance(s, dict):
            raise UsageRejected(f"{where}]: must be an object with tenant, meter, quantity")
        extra = set(s) - {"tenant", "meter", "subject", "quantity"}
        if extra:
            raise UsageRejected(f"{where}]: unknown field(s) {', '.join(sorted(extra))}; "
                                "allowed: tenant, meter, subject, quantity")
        for f in ("tenant", "meter", "quantity"):
            if f not in s:
                raise UsageRejected(f"{where}.{f}]: missing; add it")
        tenant, name, subject = s["tenant"], s["meter"], s.get("subject", stack)
        if tenant not in known:
            raise UsageRejected(f"{where}.tenant]: unknown tenant {tenant!r}; known: "
                                f"{', '.join(sorted(known))}")
        if not isinstance(subject, str) or not subject:
            raise UsageRejected(f"{where}.subject]: must be a non-empty string")
        meter(str(name), f"{where}.meter]")
        try:
            rows.append(usage_row(f"pulumi:{stack}", day, tenant, name, subject, s["quantity"]))
        except UsageRejected as exc:
            raise UsageRejected(f"{where}.quantity]: {exc}") from None
    return Collected(f"pulumi:{stack}", rows, where=str(path))


def collect_audit(ctx: CollectionContext) -> list[Collected]:
    """Applied changes (result ``changed``/``applied``) in the month, per tenant and target."""
    log = ctx.audit_log
    if not log.exists():
        return [Collected("audit", notes=(f"no audit log yet ({log})",))]
    first, last = ctx.period.start.isoformat(), ctx.period.end.isoformat()
    known = set(ctx.estate.slugs)
    rows, skipped, later = [], 0, 0
    try:
        events = list(_audit_lines(log))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageRejected(f"{log}: cannot read the audit log ({exc})") from None
    for lineno, line, event in events:
        if event is None:
            raise UsageRejected(f"{log}:{lineno}: not a JSON event; the audit log is "
                                "append-only JSON lines — repair that line")
        if event.get("result") not in APPLIED_RESULTS:
            continue
        when = str(event.get("time", ""))
        try:
            stamped = datetime.fromisoformat(when)
        except ValueError:
            raise UsageRejected(f"{log}:{lineno} [time]: {when!r} is not an ISO time") from None
        day = (stamped.astimezone() if stamped.tzinfo else stamped).date().isoformat()
        if not first <= day <= last:
            continue
        if day > ctx.estate.today.isoformat():
            later += 1  # written by a what-if run dated after this run's today
            continue
        tenant = event.get("tenant")
        if tenant not in known:
            skipped += 1  # a community-wide event or a tenant that has left: not billable
            continue
        digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:32]
        rows.append(usage_row("audit", day, tenant, "change.applied",
                              str(event.get("target") or tenant)[:200], 1,
                              key=f"audit:{day}:{digest}"))
    notes = []
    if skipped:
        notes.append(f"{skipped} applied change(s) without a known tenant not metered")
    if later:
        notes.append(f"{later} applied change(s) dated after {ctx.estate.today} not metered yet")
    return [Collected("audit", rows, tuple(notes), where=str(log))]


def _audit_lines(log: Path) -> Iterator[tuple[int, str, dict | None]]:
    with log.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = None
            yield lineno, line, event if isinstance(event, dict) or event is None else None


COLLECTORS: dict[str, Collector] = {
    "estate": collect_estate,
    "pulumi": collect_pulumi,
    "audit": collect_audit,
}


def collect(estate: Estate, period: Period, state_dir: Path, audit_log: Path | None = None,
            only: list[str] | None = None) -> list[Collected]:
    """Run the collectors for one month and check every row; raise before anything is written."""
    if not period.is_month:
        raise UsageRejected(f"--period {period.id}: collect one month at a time (e.g. "
                            f"{period.months[0]})")
    period.check_not_future(estate.today)
    ctx = CollectionContext(estate, period, state_dir, audit_log or state_dir / "audit.jsonl")
    names = only or list(COLLECTORS)
    for n in names:
        if n not in COLLECTORS:
            raise UsageRejected(f"unknown collector {n!r}; use: {', '.join(COLLECTORS)}")
    results = [c for n in names for c in COLLECTORS[n](ctx)]
    for c in results:
        check_rows(c.rows, today=estate.today, tenants=set(estate.slugs), where=c.where)
    return results


__all__ = ["APPLIED_RESULTS", "COLLECTORS", "Collected", "CollectionContext", "collect",
           "collect_audit", "collect_estate", "collect_pulumi"]
