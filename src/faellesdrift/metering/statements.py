"""Closed months, statements, quarters and corrections.

A month is the unit of settlement. ``close`` writes one immutable statement per
tenant (model, inputs, amounts, lines and a SHA-256 of its canonical JSON) and a
close record into the store, in one transaction, and one audit event per tenant.
A closed month is always read back from its statements, whatever changes later.

When a closed month would come out differently today (a tenant file, a go-live
date or late usage changed), the difference is not written into it: the next
open month carries a correction line per tenant — a credit (−) or debit (+) that
names the month and what changed. A correction booked in a later closed month is
not booked again.

A quarter or a year is the sum of its months' statements and is refused while
any of its months is open or in the future.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from faellesdrift import audit, clock
from faellesdrift.estate import Estate
from faellesdrift.metering.errors import SettlementError
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import (
    Bill,
    BookedCorrection,
    Comparison,
    Line,
    MonthUsage,
    TenantAmount,
    compare,
    days_taken,
    dkk,
    go_live,
    settle,
    settlement_of,
)
from faellesdrift.metering.store import Store

SCHEMA = "faellesdrift.statement/1"


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _prev(month: Period) -> Period:
    return Period(month.year - 1, 12, 1) if month.first_month == 1 else \
        Period(month.year, month.first_month - 1, 1)


# ------------------------------------------------------------------ inputs


def tenant_inputs(estate: Estate, month: Period, usage: MonthUsage) -> dict[str, dict[str, Any]]:
    """What each tenant's amount rests on: population, go-live, days taken, priced usage."""
    s = settlement_of(estate)
    out: dict[str, dict[str, Any]] = {}
    for t in estate.tenants:
        used = usage.charged.get(t.slug, {})
        pools = {}
        for pool in s.pools:
            days, basis = days_taken(t, pool, month)
            listed = sum((q * Fraction(r.dkk) for m, r in s.rates.items() if r.pool == pool
                          for q in [used.get(m, Fraction(0))]), Fraction(0))
            pools[pool] = {"days": days, "of": month.days, "basis": basis,
                           "list_dkk": dkk(listed * 100)}
        out[t.slug] = {"population": t.population, "go_live": go_live(t).isoformat(),
                       "pools": pools}
    return out


def _what_changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                  tenants_before: Sequence[str], tenants_after: Sequence[str]) -> str:
    changes = []
    if before is None:
        changes.append("not in the closed statement")
    elif after is None:
        changes.append("no longer in the estate")
    else:
        if before["population"] != after["population"]:
            changes.append(f"population {before['population']:,} → {after['population']:,}")
        if before["go_live"] != after["go_live"]:
            changes.append(f"go-live {before['go_live']} → {after['go_live']}")
        for pool, b in before["pools"].items():
            a = after["pools"].get(pool)
            if a is None:
                changes.append(f"{pool}: pool removed")
            elif a["days"] != b["days"]:
                changes.append(f"{pool}: {b['days']} → {a['days']} days taken")
            elif a["list_dkk"] != b["list_dkk"]:
                changes.append(f"{pool} usage: list DKK {b['list_dkk']} → {a['list_dkk']}")
    joined, left = sorted(set(tenants_after) - set(tenants_before)), \
        sorted(set(tenants_before) - set(tenants_after))
    if joined or left:
        changes.append("tenants billed: " + ", ".join([f"+{t}" for t in joined]
                                                      + [f"−{t}" for t in left]))
    return "; ".join(changes) or "pools or rates changed"


def _billed_tenants(bill: Bill) -> list[str]:
    return [t.slug for t in bill.tenants if t.amount_ore or any(t.by_pool.values())]


# ------------------------------------------------------------------ reading


def _statement_tenant(body: Mapping[str, Any]) -> TenantAmount:
    return TenantAmount(
        body["tenant"], body["name"], body["code"], body["population"], body["amount_ore"],
        dict(body["by_pool"]),
        tuple(Line(ln["pool"], ln["text"], ln["amount_ore"], ln["component"])
              for ln in body["lines"]),
        dict(body["by_component"]), body["basis"],
        tuple(BookedCorrection(c["for_period"], c["amount_ore"], c["what"])
              for c in body["corrections"]))


def read_closed(store: Store, month: Period,
                closed: Mapping[str, Mapping[str, Any]] | None = None) -> Bill | None:
    """The closed month as it was closed (hashes checked), or None when it is open."""
    closed = store.closed_months() if closed is None else closed
    record = closed.get(month.id)
    if record is None:
        return None
    if digest(record["body"]) != record["sha256"]:
        raise SettlementError(f"closed month {month.id}: the close record does not match its "
                              "hash; the store was altered outside faellesdrift")
    head = json.loads(record["body"])
    tenants = []
    for row in store.statements(month.id):
        if digest(row["body"]) != row["sha256"]:
            raise SettlementError(f"closed month {month.id}, tenant {row['tenant']}: the "
                                  "statement does not match its hash; the store was altered")
        tenants.append(dataclasses.replace(_statement_tenant(json.loads(row["body"])),
                                           sha256=row["sha256"]))
    notes = tuple(head["notes"]) + (f"closed {record['closed_at']} by {record['who']}",)
    return Bill(month, head["model"], head["mode"], dict(head["pools_ore"]), tuple(tenants),
                notes, dict(head["unbilled_ore"]), closed=True)


def closed_bills(store: Store) -> list[tuple[Bill, dict[str, Any]]]:
    """Every closed month of the store (hashes checked) with its close record, oldest first."""
    closed = store.closed_months()
    out = []
    for pid in sorted(closed):
        bill = read_closed(store, Period.parse(pid), closed)
        if bill is not None:
            out.append((bill, closed[pid]))
    return out


# ------------------------------------------------------------------ corrections


def corrections_for(estate: Estate, store: Store, month: Period,
                    closed: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> dict[str, list[BookedCorrection]]:
    """Credits/debits for the closed months just before ``month`` (the next open one)."""
    closed = store.closed_months() if closed is None else closed
    chain: list[Period] = []
    prev = _prev(month)
    while prev.id in closed:
        chain.append(prev)
        prev = _prev(prev)
    if not chain:
        return {}
    bills = {c.id: read_closed(store, c, closed) for c in chain}
    out: dict[str, list[BookedCorrection]] = {}
    for c in reversed(chain):  # oldest first
        was = bills[c.id]
        assert was is not None
        rollup = store.rollup(c.months)
        try:
            now = settle(estate, c, rollup, was.model)
        except SettlementError as exc:
            raise SettlementError(f"cannot recompute closed {c.id} for corrections: {exc}"
                                  ) from None
        inputs_now = tenant_inputs(estate, c, MonthUsage.from_rollup(rollup, estate, c))
        inputs_was = {row["tenant"]: json.loads(row["body"])["inputs"]
                      for row in store.statements(c.id)}
        booked: dict[str, int] = {}
        for later in chain:
            if later.id > c.id:
                for t in bills[later.id].tenants:  # type: ignore[union-attr]
                    booked[t.slug] = booked.get(t.slug, 0) + sum(
                        x.amount_ore for x in t.corrections if x.for_period == c.id)
        before = {t.slug: t.amount_ore - sum(x.amount_ore for x in t.corrections)
                  for t in was.tenants}
        for t in now.tenants:
            diff = t.amount_ore - before.get(t.slug, 0) - booked.get(t.slug, 0)
            if diff:
                what = _what_changed(inputs_was.get(t.slug), inputs_now.get(t.slug),
                                     _billed_tenants(was), _billed_tenants(now))
                out.setdefault(t.slug, []).append(BookedCorrection(c.id, diff, what))
    return out


# ------------------------------------------------------------------ billing


def _refuse_open(period: Period, estate: Estate, closed: Mapping[str, Any]) -> None:
    future = [m.id for m in period.month_periods if m.start > estate.today]
    open_ = [m.id for m in period.month_periods
             if m.id not in closed and m.start <= estate.today]
    if future or open_:
        parts = []
        if open_:
            parts.append(f"{', '.join(open_)} not closed")
        if future:
            parts.append(f"{', '.join(future)} in the future (today is {estate.today})")
        raise SettlementError(
            f"--period {period.id} is the sum of its closed months, and {'; '.join(parts)}; "
            f"bill a month (--period {(open_ or future)[0]}) or close each month after it "
            "ends with `faellesdrift bill close YYYY-MM`")


def sum_months(period: Period, bills: Sequence[Bill]) -> Bill:
    """A quarter or a year: each tenant's months added up, one line per month."""
    pools: dict[str, int] = {}
    unbilled: dict[str, int] = {}
    for b in bills:
        for p, v in b.pools_ore.items():
            pools[p] = pools.get(p, 0) + v
        for p, v in b.unbilled_ore.items():
            unbilled[p] = unbilled.get(p, 0) + v
    tenants = []
    for first in bills[0].tenants:
        months = [b.tenant(first.slug) if first.slug in {t.slug for t in b.tenants} else None
                  for b in bills]
        by_pool: dict[str, int] = {}
        by_comp: dict[str, int] = {}
        lines, corrections = [], []
        for b, t in zip(bills, months, strict=True):
            if t is None:
                continue
            for p, v in t.by_pool.items():
                by_pool[p] = by_pool.get(p, 0) + v
            for k, v in t.by_component.items():
                by_comp[k] = by_comp.get(k, 0) + v
            corrections += t.corrections
            lines.append(Line("month", f"{b.period.id} ({b.model}, {t.basis}): "
                                       f"DKK {dkk(t.amount_ore)}", None, ""))
        tenants.append(TenantAmount(first.slug, first.name, first.code, first.population,
                                    sum(t.amount_ore for t in months if t), by_pool,
                                    tuple(lines), by_comp, f"{len(bills)} closed months",
                                    tuple(corrections)))
    models = sorted({b.model for b in bills})
    notes = tuple(f"{b.period.id}: closed under {b.model}, DKK {dkk(b.total_ore)}"
                  for b in bills)
    modes = {b.mode for b in bills}
    return Bill(period, models[0] if len(models) == 1 else "+".join(models),
                "chargeback" if modes == {"chargeback"} else "showback", pools,
                tuple(tenants), notes, unbilled, closed=True)


def bill_for(estate: Estate, store: Store, period: Period, model: str | None, *,
             showback: bool = False) -> Bill:
    """A month (closed: as closed; open: computed, with corrections) or a closed quarter/year.

    ``model`` None: the community's default model for an open month."""
    period.check_not_future(estate.today)
    closed = store.closed_months()
    if period.is_month:
        done = read_closed(store, period, closed)
        if done is not None and model is not None and done.model != model:
            note = (f"{period.id} is closed under {done.model}; shown as closed, not under "
                    f"{model} (use --compare for a recomputation under every model)")
            return dataclasses.replace(done, notes=(*done.notes, note))
        if done is not None:
            return done
        return settle(estate, period, store.rollup(period.months),
                      model or settlement_of(estate).default_model, showback=showback,
                      corrections=corrections_for(estate, store, period, closed))
    _refuse_open(period, estate, closed)
    return sum_months(period, [read_closed(store, m, closed)  # type: ignore[misc]
                               for m in period.month_periods])


def compare_for(estate: Estate, store: Store, period: Period, *,
                showback: bool = False) -> Comparison:
    """Every model on one month (a closed month is recomputed: a what-if, not a statement)."""
    corr = {} if period.is_month and period.id in store.closed_months() else \
        corrections_for(estate, store, period) if period.is_month else {}
    return compare(estate, period, store.rollup(period.months), showback=showback,
                   corrections=corr)


def close(estate: Estate, store: Store, month: Period, model: str, audit_log: Path, *,
          showback: bool = False) -> Bill:
    """Close one month that has ended: write its statements; they never change again."""
    if not month.is_month:
        raise SettlementError(f"bill close {month.id}: close one month at a time "
                              f"(e.g. {month.months[0]})")
    if month.end >= estate.today:
        raise SettlementError(f"bill close {month.id}: the month is still open (it ends "
                              f"{month.end}; today is {estate.today}); close it after it ends")
    closed = store.closed_months()
    if month.id in closed:
        raise SettlementError(f"bill close {month.id}: already closed on "
                              f"{closed[month.id]['closed_at']}; read it with `faellesdrift "
                              f"bill show --period {month.id}`")
    if closed:
        latest = Period.parse(max(closed))
        if month.id < latest.id or _prev(month).id != latest.id:
            raise SettlementError(
                f"bill close {month.id}: months close in order; the last closed month is "
                f"{latest.id}, so close {latest.next_month().id} next")
    bill = bill_for(estate, store, month, model, showback=showback)
    rollup = store.rollup(month.months)
    inputs = tenant_inputs(estate, month, MonthUsage.from_rollup(rollup, estate, month))
    stamp = clock.stamp()
    who = audit.who()[:80]
    head = {"schema": SCHEMA, "period": month.id, "model": bill.model, "mode": bill.mode,
            "currency": "DKK", "pools_ore": bill.pools_ore, "unbilled_ore": bill.unbilled_ore,
            "notes": list(bill.notes), "total_ore": bill.total_ore,
            "tenants_billed": _billed_tenants(bill)}
    head_text = canonical(head)
    statements = []
    for t in bill.tenants:
        body = statement_body(bill, t, inputs.get(t.slug))
        text = canonical(body)
        statements.append({"period": month.id, "tenant": t.slug, "model": bill.model,
                           "amount_ore": t.amount_ore, "body": text, "sha256": digest(text)})
    store.close_month({"period": month.id, "model": bill.model, "mode": bill.mode,
                       "closed_at": stamp, "who": who, "total_ore": bill.total_ore,
                       "body": head_text, "sha256": digest(head_text)}, statements)
    for st in statements:
        audit.record(audit_log, command="bill close", tenant=st["tenant"],
                     target=f"settlement {month.id}",
                     change={"model": bill.model, "amount_ore": st["amount_ore"],
                             "sha256": st["sha256"]}, result="closed")
    done = read_closed(store, month)
    assert done is not None
    return done


def statement_body(bill: Bill, t: TenantAmount, inputs: Mapping[str, Any] | None
                   ) -> dict[str, Any]:
    """One tenant's statement: everything needed to check its amount by hand."""
    return {
        "schema": SCHEMA, "period": bill.period.id, "model": bill.model, "mode": bill.mode,
        "invoice": bill.mode == "chargeback", "currency": "DKK",
        "tenant": t.slug, "code": t.code, "name": t.name, "population": t.population,
        "basis": t.basis, "inputs": dict(inputs or {}),
        "amount_ore": t.amount_ore, "by_pool": t.by_pool, "by_component": t.by_component,
        "lines": [{"pool": ln.pool, "text": ln.text, "amount_ore": ln.amount_ore,
                   "component": ln.component} for ln in t.lines],
        "corrections": [{"for_period": c.for_period, "amount_ore": c.amount_ore,
                         "what": c.what} for c in t.corrections],
    }


__all__ = ["bill_for", "close", "closed_bills", "compare_for", "corrections_for", "read_closed",
           "statement_body", "sum_months", "tenant_inputs"]
