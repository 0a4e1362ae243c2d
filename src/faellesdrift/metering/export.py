"""Exports for the finance systems: one CSV or JSON file per period (and model or comparison),
and one JSON statement per tenant.

Amounts are strings with two decimals (exact øre, never floats). A showback
period is marked ``invoice: false`` — computed and reported, not to be invoiced.
``locale="da"`` writes CSV as Danish Excel reads it: semicolon-separated,
decimal comma, UTF-8 with a byte-order mark.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from faellesdrift.metering.settle import BASELINE, COMPONENTS, Bill, Comparison, TenantAmount
from faellesdrift.settlement_result import (
    ClosedStatement,
    Correction,
    MonthState,
    Reason,
    SettlementResult,
    TenantSettlement,
)

LOCALES = ("en", "da")


class DanishExcel(csv.excel):
    """What Danish Excel opens without an import wizard: ``;`` between fields."""

    delimiter = ";"
    lineterminator = "\r\n"


def money(ore_amount: int) -> str:
    return str((Decimal(ore_amount) / 100).quantize(Decimal("0.01")))


def money_da(ore_amount: int) -> str:
    """1028627.99 → '1028627,99' (decimal comma, no thousands separator)."""
    return money(ore_amount).replace(".", ",")


def bill_dict(bill: Bill, baseline: Bill | None = None, lines: bool = True) -> dict[str, Any]:
    tenants = []
    for t in bill.tenants:
        row: dict[str, Any] = {
            "tenant": t.slug, "code": t.code, "name": t.name, "population": t.population,
            "amount": money(t.amount_ore), "basis": t.basis,
            "by_pool": {p: money(v) for p, v in t.by_pool.items()},
            "by_component": {k: money(v) for k, v in t.by_component.items()},
            "corrections": [{"for_period": c.for_period, "amount": money(c.amount_ore),
                             "what": c.what} for c in t.corrections],
        }
        if t.sha256:
            row["statement_sha256"] = t.sha256
        if baseline is not None:
            row[f"delta_vs_{BASELINE}"] = money(t.amount_ore - baseline.tenant(t.slug).amount_ore)
        if lines:
            row["lines"] = [{"pool": ln.pool, "component": ln.component,
                             "text": ln.text.strip(),
                             "amount": None if ln.amount_ore is None else money(ln.amount_ore)}
                            for ln in t.lines]
        tenants.append(row)
    return {
        "period": bill.period.id, "model": bill.model, "mode": bill.mode,
        "invoice": bill.mode == "chargeback", "currency": "DKK",
        "closed": bill.closed,
        "pools": {p: money(v) for p, v in bill.pools_ore.items()},
        "unbilled": {p: money(v) for p, v in bill.unbilled_ore.items()},
        "components": {k: money(v) for k, v in bill.components_ore.items()},
        "corrections": money(bill.corrections_ore),
        "total": money(bill.total_ore), "notes": list(bill.notes), "tenants": tenants,
    }


def comparison_dict(cmp: Comparison, lines: bool = False) -> dict[str, Any]:
    base = cmp.bills.get(BASELINE)
    return {
        "period": cmp.period.id, "mode": cmp.mode, "invoice": cmp.mode == "chargeback",
        "currency": "DKK", "baseline": BASELINE,
        "models": {name: bill_dict(b, base, lines) for name, b in cmp.bills.items()},
        "errors": dict(cmp.errors),
    }


def _reasons(t: TenantAmount) -> list[Reason]:
    return [Reason(ln.pool, ln.component, ln.text.strip(),
                   None if ln.amount_ore is None else Decimal(money(ln.amount_ore)))
            for ln in t.lines]


def _components(t: TenantAmount) -> dict[str, Decimal]:
    return {k: Decimal(money(v)) for k, v in t.by_component.items()}


def _pools(t: TenantAmount) -> dict[str, Decimal]:
    return {p: Decimal(money(v)) for p, v in t.by_pool.items()}


def closed_statement(bill: Bill, t: TenantAmount, record: Mapping[str, Any]) -> ClosedStatement:
    """One tenant's statement of a closed month, as the reports read it."""
    return ClosedStatement(
        bill.period.id, bill.model, bill.mode, Decimal(money(t.amount_ore)), _components(t),
        _pools(t), tuple(_reasons(t)),
        tuple(Correction(c.for_period, Decimal(money(c.amount_ore)), c.what)
              for c in t.corrections),
        t.basis, str(record.get("closed_at") or ""), str(record.get("who") or ""), t.sha256)


def settlement_result(cmp: Comparison, default_model: str, *,
                      closed: Sequence[tuple[Bill, Mapping[str, Any]]] = (),
                      usage: Mapping[str, Mapping[str, float]] | None = None
                      ) -> SettlementResult:
    """The comparison and the closed months as the typed ``settlement`` result for the reports.

    Every tenant of the bills gets its amount under each model that settled, split into
    components and pools, with the ``--explain`` reasons; ``closed`` are the store's
    closed months (bill, close record), oldest first, read from their statements.
    The period is ``closed`` when it is one of them, else an ``estimate``.
    """
    closed_ids = {b.period.id for b, _ in closed}
    state = "closed" if cmp.period.id in closed_ids else "estimate"
    tenants: dict[str, dict[str, Any]] = {}
    for name, bill in cmp.bills.items():
        for t in bill.tenants:
            e = tenants.setdefault(t.slug, {"population": t.population, "basis": t.basis,
                                            "amounts": {}, "by_pool": {}, "components": {},
                                            "reasons": {}})
            e["amounts"][name] = Decimal(money(t.amount_ore))
            e["by_pool"][name] = _pools(t)
            e["components"][name] = _components(t)
            e["reasons"][name] = tuple(_reasons(t))
    statements: dict[str, list[ClosedStatement]] = {}
    for bill, record in closed:
        for t in bill.tenants:
            statements.setdefault(t.slug, []).append(closed_statement(bill, t, record))
    usage = usage or {}
    entries = {
        slug: TenantSettlement(
            cmp.period.id, state, e["population"], e["amounts"], e["by_pool"],
            e["components"], e["reasons"],
            {m: Decimal(str(q)) for m, q in (usage.get(slug) or {}).items()}, e["basis"],
            tuple(statements.get(slug, ())))
        for slug, e in tenants.items()}
    chosen = cmp.bills.get(default_model) or cmp.bills.get(BASELINE) or next(
        iter(cmp.bills.values()), None)
    months = [MonthState(b.period.id, "closed", b.model, Decimal(money(b.total_ore)),
                         str(r.get("closed_at") or ""), str(r.get("who") or ""))
              for b, r in closed]
    if state == "estimate":
        months.append(MonthState(cmp.period.id, "estimate", default_model,
                                 None if chosen is None else Decimal(money(chosen.total_ore))))
    return SettlementResult(
        cmp.period.id, state, "DKK", cmp.mode, default_model, entries,
        tuple(sorted(months, key=lambda m: m.period)),
        None if chosen is None else Decimal(money(chosen.total_ore)))


def settlement_payload(cmp: Comparison, default_model: str, **kwargs: Any) -> dict[str, Any]:
    """``settlement_result(...).to_payload()``: what ``results.save`` stores for the reports."""
    return settlement_result(cmp, default_model, **kwargs).to_payload()


CSV_FIELDS = ["period", "model", "mode", "invoice", "tenant", "code", "name", "population",
              "amount_dkk", f"delta_vs_{BASELINE}_dkk"]


def csv_text(bills: list[Bill], baseline: Bill | None = None, locale: str = "en") -> str:
    """One row per tenant and model; pool and component columns add up to ``amount``."""
    if locale not in LOCALES:
        raise ValueError(f"locale {locale!r}: use one of {', '.join(LOCALES)}")
    fmt = money_da if locale == "da" else money
    pools = sorted({p for b in bills for t in b.tenants for p in t.by_pool})
    out = io.StringIO()
    w = csv.writer(out, DanishExcel) if locale == "da" else csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS + [f"pool_{p}_dkk" for p in pools] + ["correction_dkk"]
               + [f"component_{c}_dkk" for c in COMPONENTS])
    for b in bills:
        for t in b.tenants:
            delta = "" if baseline is None else fmt(
                t.amount_ore - baseline.tenant(t.slug).amount_ore)
            w.writerow([b.period.id, b.model, b.mode, str(b.mode == "chargeback").lower(),
                        t.slug, t.code, t.name, t.population, fmt(t.amount_ore), delta]
                       + [fmt(t.by_pool.get(p, 0)) for p in pools]
                       + [fmt(sum(c.amount_ore for c in t.corrections))]
                       + [fmt(t.by_component.get(c, 0)) for c in COMPONENTS])
    return out.getvalue()


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding=encoding, newline="")
    os.replace(tmp, path)
    return path


def export(target: Bill | Comparison, fmt: str, directory: Path, locale: str = "en") -> Path:
    """settlement-<period>-<model|compare>[.da].<csv|json> in ``directory``."""
    if fmt not in ("csv", "json"):
        raise ValueError(f"export format {fmt!r}: use csv or json")
    if fmt == "csv" and locale == "da":
        bills = list(target.bills.values()) if isinstance(target, Comparison) else [target]
        base = target.bills.get(BASELINE) if isinstance(target, Comparison) else None
        label = "compare" if isinstance(target, Comparison) else target.model
        return _write(directory / f"settlement-{target.period.id}-{label}.da.csv",
                      csv_text(bills, base, "da"), encoding="utf-8-sig")
    if isinstance(target, Comparison):
        name = f"settlement-{target.period.id}-compare.{fmt}"
        if fmt == "json":
            text = json.dumps(comparison_dict(target, lines=True), indent=2, ensure_ascii=False)
        else:
            text = csv_text(list(target.bills.values()), target.bills.get(BASELINE))
    else:
        name = f"settlement-{target.period.id}-{target.model}.{fmt}"
        if fmt == "json":
            text = json.dumps(bill_dict(target), indent=2, ensure_ascii=False)
        else:
            text = csv_text([target])
    return _write(directory / name, text + ("\n" if fmt == "json" else ""))


def export_statements(bill: Bill, directory: Path) -> list[Path]:
    """statement-<period>-<tenant>.json for every tenant of the bill."""
    data = bill_dict(bill, lines=True)
    head = {k: v for k, v in data.items() if k != "tenants"}
    return [_write(directory / f"statement-{bill.period.id}-{t['tenant']}.json",
                   json.dumps({**head, "tenant": t}, indent=2, ensure_ascii=False) + "\n")
            for t in data["tenants"]]
