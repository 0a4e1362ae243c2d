"""`faellesdrift meter …` and `faellesdrift bill`: thin wiring to the metering library.

Wire into the main app with::

    from faellesdrift.metering.cli import bill_cmd, meter_app
    app.add_typer(meter_app, name="meter")
    app.command("bill")(bill_cmd)
"""

from __future__ import annotations

from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from faellesdrift import results
from faellesdrift.commandline import RootOpt, TodayOpt, open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate
from faellesdrift.metering.collect import collect
from faellesdrift.metering.export import (
    bill_dict,
    comparison_dict,
    export,
    money,
    settlement_payload,
)
from faellesdrift.metering.meters import CATALOG
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import (
    BASELINE,
    MODELS,
    Bill,
    Comparison,
    Usage,
    compare,
    dkk,
    settle,
)
from faellesdrift.metering.store import DB_ENV, Store, open_store, resolve_url
from faellesdrift.settings import Settings
from faellesdrift.ui import (
    Output,
    OutputOpt,
    console,
    err_console,
    fail,
    print_json,
    styled,
    table,
)

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
    try:
        return Period.parse(raw) if raw else Period.month_of(estate.today)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None


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


def _usage_by_tenant(rollup: list, estate: Estate, p: Period, slugs) -> dict[str, dict]:
    """Each tenant's usage per meter (charged and kept locally): unit-months or events."""
    usage = Usage.from_rollup(rollup, estate, p)
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


def _delta(ore_amount: int | None) -> Text | str:
    if ore_amount is None:
        return ""
    if ore_amount == 0:
        return "±0.00"
    colour = "red" if ore_amount > 0 else "green"
    return styled(f"{'+' if ore_amount > 0 else ''}{dkk(ore_amount)}", colour)


def _explain(bill: Bill, slug: str) -> None:
    t = bill.tenant(slug)
    rows = [[ln.text if ln.amount_ore is not None else styled(ln.text, "dim"),
             "" if ln.amount_ore is None else dkk(ln.amount_ore)] for ln in t.lines]
    rows.append([styled("total", "bold"), styled(dkk(t.amount_ore), "bold")])
    console.print(table(f"{t.name} ({t.slug}, {t.population:,} citizens) — {bill.model}, "
                        f"{bill.period.id}: DKK {dkk(t.amount_ore)}", ["line", "DKK"], rows))


def _print_compare(cmp: Comparison) -> None:
    names = list(cmp.bills)
    base = cmp.bills.get(BASELINE)
    if base is None:
        raise fail(f"per_capita could not be settled: {cmp.errors.get(BASELINE)}", 1)
    rows = []
    for t in base.tenants:
        row = [t.slug, f"{t.population:,}"]
        for n in names:
            b = cmp.bills[n].tenant(t.slug)
            row.append(dkk(b.amount_ore) if n == BASELINE
                       else Text.assemble(dkk(b.amount_ore), "\n",
                                          _delta(cmp.delta_ore(n, t.slug))))
        rows.append(row)
    rows.append([styled("total", "bold"), f"{sum(t.population for t in base.tenants):,}"]
                + [styled(dkk(cmp.bills[n].total_ore), "bold") for n in names])
    label = "showback — computed and reported, not invoiced" if cmp.mode == "showback" \
        else "chargeback — to be invoiced"
    console.print(table(
        f"Settlement {cmp.period.id}, DKK, every model (Δ vs per_capita: "
        f"[red]+ pays more[/], [green]− pays less[/]) — {label}",
        ["tenant", "citizens"] + names, rows))
    for n in names:
        if n == BASELINE:
            continue
        deltas = sorted((cmp.delta_ore(n, t.slug) or 0, t.slug) for t in base.tenants)
        gain, lose = deltas[0], deltas[-1]
        console.print(f"{n}: {lose[1]} pays most extra (+{dkk(lose[0])}), "
                      f"{gain[1]} saves most ({dkk(gain[0])})", highlight=False)
    for n, err in cmp.errors.items():
        console.print(f"[red]{n}: not settled[/] — {err}", highlight=False)


def bill_cmd(
    period: Annotated[str, typer.Option("--period", help="Month (2027-01), quarter (2027-Q1) "
                                                        "or year (2027).")],
    model: Annotated[str | None, typer.Option(
        "--model", help=f"One of {', '.join(MODELS)}. Default: settlement.default_model.")]
    = None,
    compare_all: Annotated[bool, typer.Option(
        "--compare", help="Every model side by side, with each tenant's difference "
                          "against per_capita.")] = False,
    explain: Annotated[str | None, typer.Option(
        "--explain", metavar="SLUG", help="Explain this tenant's amount line by line.")] = None,
    showback: Annotated[bool, typer.Option(
        "--showback", help="Report as showback (not invoiced) whatever the period policy.")]
    = False,
    export_fmt: Annotated[Fmt | None, typer.Option(
        "--export", help="Also write settlement-<period>-<model|compare>.<fmt> for finance.")]
    = None,
    export_dir: Annotated[Path | None, typer.Option(
        "--export-dir", help="Where exports go. Default: <state>/exports.")] = None,
    db: DbOpt = None, root: RootOpt = None, today: TodayOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Spread the period's cost pools over the tenants under an allocation model.

    Amounts are whole øre and add up exactly to the pools (largest remainder).
    """
    settings, estate = _setup(root, today)
    p = _period(period, estate)
    if model and compare_all:
        raise fail("use --model NAME or --compare, not both", 1)
    settlement = estate.standards.settlement
    name = model or (settlement.default_model if settlement else "per_capita")
    if not compare_all and name not in MODELS:
        raise fail(f"--model {name!r} is not a model; use one of: {', '.join(MODELS)}", 1)
    if explain and explain not in estate.slugs:
        raise fail(f"--explain {explain!r}: no such tenant; known: {', '.join(estate.slugs)}", 1)
    store = _store(db, settings)
    try:
        rollup = store.rollup(p.months)
        result: Bill | Comparison = (compare(estate, p, rollup, showback=showback)
                                     if compare_all else
                                     settle(estate, p, rollup, name, showback=showback))
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    finally:
        store.close()
    if isinstance(result, Comparison) and result.bills:
        _save(settings, "settlement", settlement_payload(result, name))
    written = None
    if export_fmt is not None:
        written = export(result, export_fmt.value, export_dir or settings.state_dir / "exports")
    if output is Output.json:
        data = comparison_dict(result, lines=bool(explain)) if isinstance(result, Comparison) \
            else bill_dict(result, lines=True)
        if written:
            data["export"] = str(written)
        print_json(data)
    elif isinstance(result, Comparison):
        _print_compare(result)
        if explain:
            for b in result.bills.values():
                _explain(b, explain)
    else:
        label = "showback (not invoiced)" if result.mode == "showback" else "chargeback"
        console.print(table(
            f"Settlement {p.id} — {result.model} — {label}",
            ["tenant", "citizens"] + list(result.pools_ore) + ["amount DKK"],
            [[t.slug, f"{t.population:,}"] + [dkk(t.by_pool.get(pool, 0))
                                              for pool in result.pools_ore]
             + [styled(dkk(t.amount_ore), "bold")] for t in result.tenants]
            + [[styled("total", "bold"), ""] + [dkk(v) for v in result.pools_ore.values()]
               + [styled(dkk(result.total_ore), "bold")]]))
        for note in result.notes:
            console.print(note, highlight=False)
        if explain:
            _explain(result, explain)
    if written and output is not Output.json:
        console.print(f"wrote {written}")
    if isinstance(result, Comparison) and result.errors:
        raise typer.Exit(1)


__all__ = ["bill_cmd", "meter_app", "money"]
