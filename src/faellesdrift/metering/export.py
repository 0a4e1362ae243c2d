"""Exports for the finance systems: one CSV or JSON file per period (and model or comparison).

Amounts are strings with two decimals (exact øre, never floats). A showback
period is marked ``invoice: false`` — computed and reported, not to be invoiced.
"""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from faellesdrift.metering.settle import BASELINE, Bill, Comparison


def money(ore_amount: int) -> str:
    return str((Decimal(ore_amount) / 100).quantize(Decimal("0.01")))


def bill_dict(bill: Bill, baseline: Bill | None = None, lines: bool = True) -> dict[str, Any]:
    tenants = []
    for t in bill.tenants:
        row: dict[str, Any] = {
            "tenant": t.slug, "code": t.code, "name": t.name, "population": t.population,
            "amount": money(t.amount_ore),
            "by_pool": {p: money(v) for p, v in t.by_pool.items()},
        }
        if baseline is not None:
            row[f"delta_vs_{BASELINE}"] = money(t.amount_ore - baseline.tenant(t.slug).amount_ore)
        if lines:
            row["lines"] = [{"pool": ln.pool, "text": ln.text.strip(),
                             "amount": None if ln.amount_ore is None else money(ln.amount_ore)}
                            for ln in t.lines]
        tenants.append(row)
    return {
        "period": bill.period.id, "model": bill.model, "mode": bill.mode,
        "invoice": bill.mode == "chargeback", "currency": "DKK",
        "pools": {p: money(v) for p, v in bill.pools_ore.items()},
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


def settlement_payload(cmp: Comparison, default_model: str) -> dict[str, Any]:
    """The comparison as a ``settlement`` payload (faellesdrift.results) for the reports.

    Every tenant of the bills gets an entry with its amount under each model that
    settled (exact decimal strings); ``community`` names the period, the mode and the
    default model, whose total is ``total_dkk`` (every model spreads the same pools).
    """
    tenants: dict[str, dict[str, Any]] = {}
    for name, bill in cmp.bills.items():
        for t in bill.tenants:
            entry = tenants.setdefault(t.slug, {"period": cmp.period.id,
                                                "population": t.population,
                                                "amounts": {}, "by_pool": {}})
            entry["amounts"][name] = money(t.amount_ore)
            entry["by_pool"][name] = {p: money(v) for p, v in t.by_pool.items()}
    chosen = cmp.bills.get(default_model) or cmp.bills.get(BASELINE) or next(
        iter(cmp.bills.values()), None)
    community: dict[str, Any] = {"period": cmp.period.id, "currency": "DKK", "mode": cmp.mode,
                                 "model": default_model}
    if chosen is not None:
        community["total_dkk"] = money(chosen.total_ore)
    return {"community": community, "tenants": tenants}


CSV_FIELDS = ["period", "model", "mode", "invoice", "tenant", "code", "name", "population",
              "amount_dkk", f"delta_vs_{BASELINE}_dkk"]


def csv_text(bills: list[Bill], baseline: Bill | None = None) -> str:
    pools = sorted({p for b in bills for t in b.tenants for p in t.by_pool})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS + [f"pool_{p}_dkk" for p in pools])
    for b in bills:
        for t in b.tenants:
            delta = "" if baseline is None else money(
                t.amount_ore - baseline.tenant(t.slug).amount_ore)
            w.writerow([b.period.id, b.model, b.mode, str(b.mode == "chargeback").lower(),
                        t.slug, t.code, t.name, t.population, money(t.amount_ore), delta]
                       + [money(t.by_pool[p]) if p in t.by_pool else "" for p in pools])
    return out.getvalue()


def _write(path: Path, text: str) -> Path:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def export(target: Bill | Comparison, fmt: str, directory: Path) -> Path:
    """settlement-<period>-<model|compare>.<csv|json> in ``directory``."""
    if fmt not in ("csv", "json"):
        raise ValueError(f"export format {fmt!r}: use csv or json")
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
