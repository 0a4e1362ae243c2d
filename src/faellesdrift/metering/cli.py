"""`faellesdrift meter …` and `faellesdrift bill …`: thin wiring to the metering library.

Wire into the main app with::

    from faellesdrift.metering.cli import bill_app, meter_app
    app.add_typer(meter_app, name="meter")
    app.add_typer(bill_app, name="bill")
"""

from __future__ import annotations

from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from faellesdrift import results
from faellesdrift.commandline import RootOpt, TodayOpt, open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate
from faellesdrift.metering.collect import collect
from faellesdrift.metering.export import (
    LOCALES,
    bill_dict,
    comparison_dict,
    export,
    export_statements,
    money,
    settlement_payload,
)
from faellesdrift.metering.forecast import forecast
from faellesdrift.metering.meters import CATALOG
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import (
    BASELINE,
    COMPONENTS,
    MODELS,
    Bill,
    Comparison,
    MonthUsage,
    dkk,
)
from faellesdrift.metering.statements import bill_for, close, closed_bills, compare_for
from faellesdrift.metering.store import DB_ENV, Store, open_store, resolve_url
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json, styled, table

meter_app = typer.Typer(help="Collect per-tenant usage into the metering database and show it.",
                        no_args_is_help=True)

DbOpt = Annotated[str | None, typer.Option(
    "--db", envvar=DB_ENV, show_envvar=True,
    help="Database URL: sqlite:///PATH or postgresql+psycopg://USER:PW@HOST:PORT/DB. "
         "Default: sqlite file <state>/metering.db.")]
PeriodOpt = Annotated[str | None, typer.Option(
    "--period", help="Month (2027-01); bill also takes a quarter (2027-Q1) or a year (2027). "
                     "Default: the current month.")]


class Fmt(str, Enum):
    csv = "csv"
    json = "json"


def _setup(root: Path | None, today: str | None) -> tuple[Settings, Estate]:
    return open_estate(root, today)


def _period(raw: str | None, estate: Estate) -> Period:
    """The --period (or month) argument; one that does not parse is bad usage (exit 2)."""
    try:
        return Period.parse(raw) if raw else Period.month_of(estate.today)
    except FaellesdriftError as exc:
        raise fail(str(exc), 2) from None


def _store(db: str | None, settings: Settings) -> Store:
    try:
        return open_store(resolve_url(db, settings.state_dir))
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None


def _save(settings: Settings, kind: str, payload: dict) -> None:
    """Hand a result to the reports; a file that cannot be written is a warning only."""
    try:
        results.save(settings, kind, payload)
    except (OSError, FaellesdriftError) as exc:
        err_console.print(f"[yellow]warning:[/] the {kind} results for the reports were not "
                          f"saved: {exc}", highlight=False)


def _save_settlement(settings: Settings, estate: Estate, store: Store, cmp: Comparison,
                     default_model: str) -> None:
    """Hand the comparison, its components and reasons, and every closed month to the reports."""
    if not cmp.bills:
        return
    try:
        closed = closed_bills(store)
        usage = _usage_by_tenant(store.rollup(cmp.period.months), estate, cmp.period,
                                 estate.slugs)
    except FaellesdriftError as exc:
        err_console.print(f"[yellow]warning:[/] the settlement results for the reports were "
                          f"not saved: {exc}", highlight=False)
        return
    _save(settings, "settlement", settlement_payload(cmp, default_model, closed=closed,
                                                     usage=usage))


def _usage_by_tenant(rollup: list, estate: Estate, p: Period, slugs) -> dict[str, dict]:
    """Each tenant's usage per meter (charged and kept locally): unit-months or events."""
    usage = MonthUsage.from_rollup(rollup, estate, p)
    meters = sorted({r.meter for r in rollup})
    data = {}
    for slug in slugs:
        per = dict(usage.charged.get(slug, {}))
        for qs in usage.kept.get(slug, {}).values():
            for m, q in qs.items():
                per[m] = per.get(m, 0) + q
        data[slug] = {m: float(per[m]) for m in meters if m in per}
    return data


@meter_app.command("collect")
def meter_collect(
    period: PeriodOpt = None, db: DbOpt = None, root: RootOpt = None, today: TodayOpt = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this collector (estate, pulumi, audit); repeatable.")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Collect one month's usage from the estate, Pulumi stack outputs and the audit log.

    Every row is checked before anything is written; each collector's rows are one
    transaction; re-running never doubles a row (idempotency key per sample).
    """
    settings, estate = _setup(root, today)
    p = _period(period, estate)
    try:
        collected = collect(estate, p, settings.state_dir, settings.audit_log, only)
    except FaellesdriftError as exc:
        raise fail(f"{exc} — nothing written", 1) from None
    store = _store(db, settings)
    outcomes = []
    try:
        for c in collected:
            r = store.ingest(c.rows, source=c.source, today=estate.today,
                             tenants=set(estate.slugs), where=c.where)
            outcomes.append({"source": c.source, "rows": r.offered, "new": r.inserted,
                             "already_stored": r.duplicates, "batch": r.batch_id,
                             "notes": list(c.notes)})
        rollup = store.rollup(p.months)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()
    offered = Counter(r.tenant for c in collected for r in c.rows)
    _save(settings, "meter.collect", {"tenants": {
        slug: {"ok": True, "period": p.id, "rows": offered.get(slug, 0), "meters": meters}
        for slug, meters in _usage_by_tenant(rollup, estate, p, estate.slugs).items()}})
    if output is Output.json:
        print_json({"period": p.id, "db": store.url, "collectors": outcomes})
        return
    console.print(table(f"Usage collected for {p.id} → {store.url}",
                        ["source", "rows", "new", "already stored", "note"],
                        [[r["source"], r["rows"], r["new"], r["already_stored"],
                          "; ".join(r["notes"])] for r in outcomes]))
    new = sum(r["new"] for r in outcomes)
    console.print(f"{new} new row(s); run `faellesdrift bill --period {p.id} --compare`")


@meter_app.command("show")
def meter_show(
    period: PeriodOpt = None, db: DbOpt = None, root: RootOpt = None, today: TodayOpt = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
    batches: Annotated[bool, typer.Option("--batches", help="List the latest ingest batches.")]
    = False,
    output: OutputOpt = Output.table,
) -> None:
    """A period's usage per tenant and meter (levels in unit-months, counters in events)."""
    settings, estate = _setup(root, today)
    p = _period(period, estate)
    if tenant and tenant not in estate.slugs:
        raise fail(f"--tenant {tenant!r}: no such tenant; known: {', '.join(estate.slugs)}", 1)
    store = _store(db, settings)
    try:
        rollup = store.rollup(p.months, [tenant] if tenant else None)
        counts = store.counts()
        recent = store.batches() if batches else []
    finally:
        store.close()
    meters = sorted({m for r in rollup for m in [r.meter]})
    data = _usage_by_tenant(rollup, estate, p, [tenant] if tenant else estate.slugs)
    if output is Output.json:
        print_json({"period": p.id, "db": store.url, "counts": counts,
                    "units": {m: CATALOG[m].usage_unit for m in meters if m in CATALOG},
                    "usage": data, "batches": recent})
        return
    if not rollup:
        console.print(f"no usage for {p.id} in {store.url} — run "
                      f"`faellesdrift meter collect --period {p.months[0]}`")
    else:
        console.print(table(
            f"Usage {p.id} ({store.url})", ["tenant"] + [
                f"{m}\n[{CATALOG[m].usage_unit if m in CATALOG else '?'}]" for m in meters],
            [[slug] + [f"{v[m]:,.2f}".rstrip("0").rstrip(".") if m in v else "" for m in meters]
             for slug, v in data.items()]))
    if recent:
        console.print(table("Latest batches", ["id", "source", "periods", "who", "started",
                                               "offered", "inserted"],
                            [[b["id"], b["source"], b["periods"], b["who"], b["started_at"],
                              b["rows_offered"], b["rows_inserted"]] for b in recent]))
    console.print(f"{counts['rows']:,} row(s) in {counts['batches']:,} batch(es) in the store")


def _delta(ore_amount: int | None) -> str:
    if ore_amount is None:
        return ""
    if ore_amount == 0:
        return "±0.00"
    return f"{'+' if ore_amount > 0 else ''}{dkk(ore_amount)}"


def _bold(value: object) -> object:
    return styled(value, "bold")


def _explain(bill: Bill, slug: str) -> None:
    t = bill.tenant(slug)
    rows = [[ln.component, ln.text if ln.amount_ore is not None else styled(ln.text, "dim"),
             "" if ln.amount_ore is None else dkk(ln.amount_ore)] for ln in t.lines]
    rows.append(["", _bold("total"), _bold(dkk(t.amount_ore))])
    console.print(table(f"{t.name} ({t.slug}, {t.population:,} citizens, {t.basis}) — "
                        f"{bill.model}, {bill.period.id}: DKK {dkk(t.amount_ore)}",
                        ["component", "line", "DKK"], rows))


def _print_compare(cmp: Comparison) -> None:
    names = list(cmp.bills)
    base = cmp.bills.get(BASELINE)
    if base is None:
        raise fail(f"per_capita could not be settled: {cmp.errors.get(BASELINE)}", 1)
    rows = []
    for t in base.tenants:
        row = [t.slug, f"{t.population:,}", t.basis]
        for n in names:
            b = cmp.bills[n].tenant(t.slug)
            row.append(dkk(b.amount_ore) if n == BASELINE
                       else f"{dkk(b.amount_ore)}\n{_delta(cmp.delta_ore(n, t.slug))}")
        rows.append(row)
    rows.append([_bold("total"), f"{sum(t.population for t in base.tenants):,}", ""]
                + [_bold(dkk(cmp.bills[n].total_ore)) for n in names])
    label = "showback — computed and reported, not invoiced" if cmp.mode == "showback" \
        else "chargeback — to be invoiced"
    console.print(table(
        f"Settlement {cmp.period.id}, DKK, every model (Δ vs per_capita: + pays more, "
        f"− pays less) — {label}", ["tenant", "citizens", "basis"] + names, rows))
    for n in names:
        if n == BASELINE:
            continue
        deltas = sorted((cmp.delta_ore(n, t.slug) or 0, t.slug) for t in base.tenants)
        if not any(d for d, _ in deltas):
            continue
        gain, lose = deltas[0], deltas[-1]
        console.print(f"{n}: {lose[1]} pays most extra (+{dkk(lose[0])}), "
                      f"{gain[1]} saves most ({dkk(gain[0])})", highlight=False)
    for note in base.notes:
        console.print(note, highlight=False)
    for n, err in cmp.errors.items():
        err_console.print(f"{n}: not settled — {err}", highlight=False)


def _print_bill(bill: Bill) -> None:
    """Every pool and every component as a column; each column sums to the total row."""
    label = "showback (not invoiced)" if bill.mode == "showback" else "chargeback"
    pools = list(dict.fromkeys(list(bill.pools_ore) + [
        p for t in bill.tenants for p, v in t.by_pool.items() if v]))
    comps = [c for c in COMPONENTS if any(t.by_component.get(c) for t in bill.tenants)]
    totals = bill.components_ore
    rows = [[t.slug, f"{t.population:,}", t.basis]
            + [dkk(t.by_pool.get(p, 0)) for p in pools]
            + [dkk(t.by_component.get(c, 0)) for c in comps] + [_bold(dkk(t.amount_ore))]
            for t in bill.tenants]
    rows.append([_bold("total"), f"{sum(t.population for t in bill.tenants):,}", ""]
                + [dkk(sum(t.by_pool.get(p, 0) for t in bill.tenants)) for p in pools]
                + [dkk(totals.get(c, 0)) for c in comps] + [_bold(dkk(bill.total_ore))])
    state = "closed statement" if bill.closed else "draft (open month)" \
        if bill.period.is_month else "sum of closed months"
    console.print(table(
        f"Settlement {bill.period.id} — {bill.model} — {label} — {state}",
        ["tenant", "citizens", "basis"] + [f"pool {p}" for p in pools]
        + [f"= {c}" for c in comps] + ["amount DKK"], rows))
    for note in bill.notes:
        console.print(note, highlight=False)
    for t in bill.tenants:
        for c in t.corrections:
            console.print(f"{t.slug}: correction for {c.for_period}: DKK {dkk(c.amount_ore)} "
                          f"({c.what})", highlight=False)


bill_app = typer.Typer(help="Settle a period under an allocation model; close months; show "
                            "closed statements.", invoke_without_command=True)

ModelOpt = Annotated[str | None, typer.Option(
    "--model", help=f"One of {', '.join(MODELS)}. Default: settlement.default_model.")]
LocaleOpt = Annotated[str, typer.Option(
    "--locale", help="CSV for finance: en (comma, decimal point) or da (semicolon, decimal "
                     "comma, UTF-8 with BOM, as Danish Excel reads it).")]


def _usage_first(period: str | None, model: str | None) -> None:
    """A --period or --model that can never work is bad usage (exit 2), found before the
    tenant files are read."""
    if period is not None:
        try:
            Period.parse(period)
        except FaellesdriftError as exc:
            raise fail(str(exc), 2) from None
    if model is not None and model not in MODELS:
        raise fail(f"--model {model!r} is not a model; use one of: {', '.join(MODELS)}", 2)


def _model(estate: Estate, model: str | None) -> str:
    settlement = estate.standards.settlement
    name = model or (settlement.default_model if settlement else "per_capita")
    if name not in MODELS:
        raise fail(f"--model {name!r} is not a model; use one of: {', '.join(MODELS)}", 2)
    return name


def _json(result: Bill | Comparison, explain: bool, written: list[Path]) -> None:
    data = comparison_dict(result, lines=explain) if isinstance(result, Comparison) \
        else bill_dict(result, lines=True)
    if written:
        data["export"] = str(written[0])
        if written[1:]:
            data["statements"] = [str(p) for p in written[1:]]
    print_json(data)


@bill_app.callback()
def bill_cmd(
    ctx: typer.Context,
    period: Annotated[str | None, typer.Option(
        "--period", help="Month (2027-01); a quarter (2027-Q1) or year (2027) once all its "
                         "months are closed.")] = None,
    model: ModelOpt = None,
    compare_all: Annotated[bool, typer.Option(
        "--compare", help="Every model side by side on one month, with each tenant's "
                          "difference against per_capita.")] = False,
    explain: Annotated[str | None, typer.Option(
        "--explain", metavar="SLUG", help="Explain this tenant's amount line by line.")] = None,
    showback: Annotated[bool, typer.Option(
        "--showback", help="Report as showback (not invoiced) whatever the period policy.")]
    = False,
    export_fmt: Annotated[Fmt | None, typer.Option(
        "--export", help="Also write settlement-<period>-<model|compare>.<fmt> for finance "
                         "(json: plus statement-<period>-<tenant>.json per tenant).")] = None,
    locale: LocaleOpt = "en",
    export_dir: Annotated[Path | None, typer.Option(
        "--export-dir", help="Where exports go. Default: <state>/exports.")] = None,
    db: DbOpt = None, root: RootOpt = None, today: TodayOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Spread a month's cost pools over the tenants that take them, under an allocation model.

    Amounts are whole øre and add up exactly to the billed pools (largest remainder).
    A closed month is shown as closed; an open month is a draft with corrections for the
    closed months before it; a quarter or a year is the sum of its closed months.
    """
    if ctx.invoked_subcommand is not None:
        return
    if period is None:
        raise fail("--period is required (e.g. --period 2026-11)", 2)
    if locale not in LOCALES:
        raise fail(f"--locale {locale!r}: use one of {', '.join(LOCALES)}", 2)
    if model and compare_all:
        raise fail("use --model NAME or --compare, not both", 2)
    _usage_first(period, model)
    settings, estate = _setup(root, today)
    p = _period(period, estate)
    name = _model(estate, model)
    if explain and explain not in estate.slugs:
        raise fail(f"--explain {explain!r}: no such tenant; known: {', '.join(estate.slugs)}", 1)
    store = _store(db, settings)
    try:
        result: Bill | Comparison = (compare_for(estate, store, p, showback=showback)
                                     if compare_all else
                                     bill_for(estate, store, p, model and name,
                                              showback=showback))
        if isinstance(result, Comparison):
            _save_settlement(settings, estate, store, result, name)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()
    written: list[Path] = []
    if export_fmt is not None:
        target = export_dir or settings.state_dir / "exports"
        written.append(export(result, export_fmt.value, target, locale))
        if export_fmt is Fmt.json and isinstance(result, Bill):
            written += export_statements(result, target)
    if output is Output.json:
        _json(result, bool(explain), written)
    elif isinstance(result, Comparison):
        _print_compare(result)
        if explain:
            for b in result.bills.values():
                _explain(b, explain)
    else:
        _print_bill(result)
        if explain:
            _explain(result, explain)
    if written and output is not Output.json:
        for path in written:
            console.print(f"wrote {path}", highlight=False)
    if isinstance(result, Comparison) and result.errors:
        raise typer.Exit(1)


@bill_app.command("close")
def bill_close(
    month: Annotated[str, typer.Argument(help="The month to close, e.g. 2026-11.")],
    model: ModelOpt = None,
    showback: Annotated[bool, typer.Option(
        "--showback", help="Close as showback (not invoiced) whatever the period policy.")]
    = False,
    db: DbOpt = None, root: RootOpt = None, today: TodayOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Close a month that has ended: one immutable statement per tenant, in the store and
    the audit log. Later changes never alter it; they become corrections in the next
    open month."""
    _usage_first(month, model)
    settings, estate = _setup(root, today)
    p = _period(month, estate)
    name = _model(estate, model)
    store = _store(db, settings)
    try:
        bill = close(estate, store, p, name, settings.audit_log, showback=showback)
        try:  # the reports show the month as closed from now on
            _save_settlement(settings, estate, store, compare_for(estate, store, p,
                                                                  showback=showback), name)
        except FaellesdriftError as exc:
            err_console.print(f"[yellow]warning:[/] the settlement results for the reports "
                              f"were not saved: {exc}", highlight=False)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()
    if output is Output.json:
        _json(bill, False, [])
        return
    _print_bill(bill)
    console.print(f"closed {p.id} under {bill.model}: {len(bill.tenants)} statement(s), "
                  f"DKK {dkk(bill.total_ore)}", highlight=False)


@bill_app.command("show")
def bill_show(
    period: Annotated[str, typer.Option(
        "--period", help="A closed month, or a quarter/year whose months are all closed.")],
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's statement.")] = None,
    db: DbOpt = None, root: RootOpt = None, today: TodayOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Read closed statements (never recomputed)."""
    settings, estate = _setup(root, today)
    p = _period(period, estate)
    store = _store(db, settings)
    try:
        closed = store.closed_months()
        if not all(m in closed for m in p.months):
            open_ = [m for m in p.months if m not in closed]
            raise fail(f"--period {p.id}: {', '.join(open_)} not closed; close a month with "
                       "`faellesdrift bill close YYYY-MM` after it ends", 1)
        bill = bill_for(estate, store, p, None)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()
    if tenant is not None:
        t = bill.tenant(tenant) if tenant in {x.slug for x in bill.tenants} else None
        if t is None:
            raise fail(f"--tenant {tenant!r}: no statement for it in {p.id}", 1)
        if output is Output.json:
            data = bill_dict(bill, lines=True)
            print_json({**{k: v for k, v in data.items() if k != "tenants"},
                        "tenant": next(x for x in data["tenants"] if x["tenant"] == tenant)})
            return
        _explain(bill, tenant)
        return
    if output is Output.json:
        _json(bill, True, [])
        return
    _print_bill(bill)


@bill_app.command("forecast")
def bill_forecast(
    year: Annotated[int, typer.Argument(help="The year to forecast, e.g. 2027.")],
    root: RootOpt = None, today: TodayOpt = None, output: OutputOpt = Output.table,
) -> None:
    """What each municipality pays per quarter under each model, from the planned waves,
    go-live dates, populations and the allocations in the tenant files (for budgets)."""
    _settings, estate = _setup(root, today)
    try:
        fc = forecast(estate, year)
    except FaellesdriftError as exc:
        raise fail(str(exc), 2) from None
    quarters = [q.id for q in fc.quarters]
    if output is Output.json:
        print_json({
            "year": year, "currency": "DKK", "forecast": True,
            "go_live": {s: d.isoformat() for s, d in fc.go_live.items()},
            "models": {m: {"tenants": {s: {**{q: money(v) for q, v in zip(quarters, qs,
                                                                          strict=True)},
                                           "year": money(sum(qs))}
                                       for s, qs in per.items()},
                           "total": money(fc.total_ore(m))}
                       for m, per in fc.amounts.items()},
            "errors": fc.errors})
    else:
        for m, per in fc.amounts.items():
            rows = [[s, str(fc.go_live[s])] + [dkk(v) for v in qs] + [_bold(dkk(sum(qs)))]
                    for s, qs in per.items()]
            rows.append([_bold("total"), ""]
                        + [dkk(sum(qs[i] for qs in per.values())) for i in range(4)]
                        + [_bold(dkk(fc.total_ore(m)))])
            console.print(table(f"Forecast {year} — {m} — DKK per quarter (a what-if from "
                                "the tenant files, not a bill)",
                                ["tenant", "go-live"] + quarters + ["year"], rows))
        for m, err in fc.errors.items():
            err_console.print(f"{m}: no forecast — {err}", highlight=False)
    if fc.errors:
        raise typer.Exit(1)


__all__ = ["bill_app", "bill_cmd", "meter_app", "money"]
