"""The transparency report: a static HTML site under ``<state>/reports/`` (or ``output_dir``).

Pages: the community overview (``index.html``), one page per municipality
(``tenants/<slug>.html``), coverage gaps, the exception register and the
decision log, plus ``report.json`` with the same figures for machines.
Templates are Jinja2 with autoescaping on: tenant files, device output and
audit events are data, never markup. Charts use the bundled Chart.js (no
network access needed to view the report); every chart has a table beside it.
A section whose data does not exist yet says which command produces it.

Every page is written in one language, Danish or English (``i18n``): the
templates' text through gettext, numbers, amounts and dates through Babel.
Tenant files, control descriptions and run results are data and are shown as
they are. ``report.json`` keeps ISO dates and plain numbers whatever the language.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from faellesdrift import __version__, clock, results
from faellesdrift.estate import ExceptionStatus, KeptException, blocking, expired_note
from faellesdrift.onboarding_record import status as onboarding_status
from faellesdrift.reports import contracts as contracts_mod
from faellesdrift.reports import costs as costs_mod
from faellesdrift.reports import coverage as coverage_mod
from faellesdrift.reports import i18n
from faellesdrift.reports import lifecycle as lifecycle_mod
from faellesdrift.reports import patches as patches_mod
from faellesdrift.reports.inputs import KINDS, Inputs, gather
from faellesdrift.reports.readiness import DEADLINE, Readiness, days_left, readiness, waves
from faellesdrift.settings import Settings

CHANGES_PERIOD_DAYS = 30
DECISIONS_SHOWN = 5000  # newest entries in the decision log page; the audit log keeps all
STATIC_FILES = ("chart.umd.min.js", "chart.js.LICENSE.md", "site.js", "style.css")
STATUS_COLOUR = {"ready": "ok", "on track": "ok", "due soon": "warn", "late": "bad"}


@dataclass(frozen=True)
class Site:
    directory: Path
    index: Path
    pages: tuple[Path, ...]
    expired: str | None = None  # the expired exceptions the reported estate ignores

    def tenant_page(self, slug: str) -> Path:
        return self.directory / "tenants" / f"{slug}.html"


# ------------------------------------------------------------------ formatting


def _text(value: Any, limit: int = 300) -> str:
    """Any JSON value as one line of text (for audit changes and result values)."""
    if value is None:
        return ""
    if isinstance(value, str):
        s = value
    elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        s = ", ".join(str(v) for v in value)
    else:
        s = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _cmd(text: Any) -> Markup:
    """Plain text where `backticked` parts are commands: escaped, the commands in <code>."""
    # a translated message (Markup) has its values escaped already: escape only plain text
    keep = Markup if isinstance(text, Markup) else escape
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(keep(p)) if i % 2 else keep(p)
        for i, p in enumerate(parts))


def _change_text(change: Any) -> str:
    """An audit event's ``change`` in plain words: what the adapters record, summarised."""
    if isinstance(change, dict):
        if change.get("task"):
            role = f"{change['role']}: " if change.get("role") else ""
            path = f" ({change['path']})" if change.get("path") else ""
            controls = change.get("controls") or {}
            ctl = f" — controls {', '.join(map(str, controls))}" if controls else ""
            return _text(f"{role}{change['task']}{path}{ctl}")
        if change.get("pushed"):
            return _text("pushed: " + "; ".join(map(str, change["pushed"])))
        return _text("; ".join(f"{k}: {_text(v, 80)}" for k, v in change.items()
                               if v not in (None, "", [], {})))
    return _text(change)


def _environment(lang: str = i18n.DEFAULT) -> Environment:
    """Templates in one language: gettext from its catalog, Babel's formats as filters."""
    env = Environment(loader=PackageLoader("faellesdrift", "templates/reports"),
                      autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    fmt = i18n.Formats(lang)
    env.filters.update(dkk=fmt.money, pct=fmt.pct, when=fmt.when, signed_dkk=fmt.signed_money,
                       text=_text, cmd=_cmd, day=fmt.day, number=fmt.number,
                       # a word that comes from data (a status, a model's label): translated
                       # when the catalog knows it, shown as it is (and escaped) otherwise
                       tr=i18n.translations(lang).gettext)
    env.globals.update(lang=lang, fmt=fmt, words=frozenset(i18n.VOCABULARY),
                       component_labels=costs_mod.COMPONENT_LABELS,
                       component_basis=costs_mod.COMPONENT_BASIS,
                       plain_gettext=i18n.translations(lang).gettext)
    return env


# ------------------------------------------------------------------ charts


def _chart(chart_id: str, title: str, labels: list[str], datasets: list[dict], *,
           unit: str = "", horizontal: bool = False, max_value: float | None = None,
           stacked: bool = False, height: int = 0) -> dict:
    """A chart as data; static/site.js draws it with Chart.js."""
    rows = max(len(labels), 1)
    return {"id": chart_id, "title": title, "labels": labels, "datasets": datasets,
            "unit": unit, "horizontal": horizontal, "max": max_value, "stacked": stacked,
            "height": height or (max(160, 28 * rows + 60) if horizontal else 280)}


# ------------------------------------------------------------------ page data


def _exposures(inputs: Inputs, t) -> list[contracts_mod.Exposure]:
    """A tenant's contracts, with the shared charge at the community's list prices."""
    settlement = inputs.estate.standards.settlement
    return contracts_mod.exposures(t, inputs.today, settlement.rates if settlement else None)


def _shown(inputs: Inputs, control_id: str, value: object) -> object:
    """Secret control values (SNMP communities, …) are masked in every page."""
    control = inputs.estate.standards.control(control_id)
    return control.shown(value) if control else value


def _exception_row(k: KeptException, inputs: Inputs) -> dict:
    r = k.record
    control = inputs.estate.standards.control(r.control)
    days = (r.expires - inputs.today).days if r.expires else None
    return {"tenant": k.tenant, "name": inputs.estate.tenant(k.tenant).name, "id": r.id,
            "control": r.control, "control_description": control.description if control else "",
            "hosts": list(r.hosts), "value": _text(_shown(inputs, r.control, r.value)),
            "category": r.category,
            "compensating_control": r.compensating_control, "justification": r.justification,
            "risk_owner": r.risk_owner, "approved_by": r.approved_by,
            "approved_on": r.approved_on, "expires": r.expires, "days_left": days,
            "status": k.status.value, "contract": r.contract}


def _event_row(e: dict) -> dict:
    return {"time": str(e.get("time") or ""), "who": _text(e.get("who"), 80),
            "tenant": str(e.get("tenant") or "") or "—",
            "command": _text(e.get("command"), 120), "target": _text(e.get("target"), 120),
            "change": _change_text(e.get("change")), "result": _text(e.get("result"), 60),
            "reason": _text(e.get("reason"), 200),
            "approved_by": _text(e.get("approved_by"), 120)}


def _events_for(inputs: Inputs, slug: str | None, since: date | None) -> list[dict]:
    """A tenant's audit events (or, with ``slug=None``, those of every reported tenant and the
    community-wide ones), newest first."""
    if slug is not None:
        events = inputs.events_by_tenant.get(slug, [])
    else:
        events = [e for t, es in inputs.events_by_tenant.items()
                  if t in ("", "*") or t in inputs.estate.slugs for e in es]
    cut = since.isoformat() if since else ""
    out = [_event_row(e) for e in events if str(e.get("time") or "")[:10] >= cut]
    out.sort(key=lambda e: e["time"], reverse=True)
    return out


def _decisions(inputs: Inputs, _: Callable[[str], str], fmt: i18n.Formats) -> list[dict]:
    """Every exception approval (from the tenant files) and every recorded change, newest first."""
    rows = []
    for k in inputs.estate.exceptions():
        r = k.record
        rows.append({"date": r.approved_on.isoformat() if r.approved_on else "",
                     "kind": "exception approved", "tenant": k.tenant,
                     "what": _("{id}: keep {control} = {value} on {hosts} until {date}").format(
                         id=r.id, control=r.control,
                         value=_text(_shown(inputs, r.control, r.value), 80),
                         hosts=", ".join(r.hosts), date=fmt.day(r.expires)),
                     "who": r.approved_by or _("— (approval missing)"),
                     "why": r.justification, "result": k.status.value})
    for e in _events_for(inputs, None, None):
        rows.append({"date": e["time"], "kind": "change" if e["result"] in (
            "changed", "applied", "created", "updated", "deleted") else "run",
            "tenant": e["tenant"],
            "what": f"{e['command']} → {e['target']}"
                    + (f": {e['change']}" if e["change"] else ""),
            "who": e["who"] + (" ({} {})".format(_("approved by"), e["approved_by"])
                               if e["approved_by"] else ""),
            "why": e["reason"], "result": e["result"]})
    rows.sort(key=lambda r: r["date"], reverse=True)
    return rows[:DECISIONS_SHOWN]


def _layer_rows(summary, inputs: Inputs) -> list[dict]:
    rows = []
    for c in summary.controls:
        control = inputs.estate.standards.control(c.control)
        rows.append({"control": c.control,
                     "description": control.description if control else "(not in the catalog)",
                     "mandatory": bool(control and control.mandatory),
                     "checked": c.checked, "compliant": c.compliant, "kept": c.kept,
                     "pct": c.pct, "failing": list(c.failing), "notes": list(c.notes)})
    return rows


def _tenant_context(r: Readiness, inputs: Inputs, view: costs_mod.CostView | None,
                    gaps: list[coverage_mod.Gap], _: Callable[[str], str],
                    fmt: i18n.Formats | None = None) -> dict:
    t = r.tenant
    slug = t.slug
    exposures = _exposures(inputs, t)
    ex_rows = [_exception_row(k, inputs) for k in inputs.estate.exceptions(slug)]
    net_src, srv_src = inputs.source("network.compliance"), inputs.source("servers.verify")
    charts = []
    layers = []
    for key, title, summary, src, noun in (
            ("network", _("Network devices"), r.network, net_src, "device"),
            ("servers", _("Servers"), r.servers, srv_src, "server")):
        rows = _layer_rows(summary, inputs) if summary else []
        if rows:
            charts.append(_chart(
                f"{key}-controls", _("{title}: compliant share per control").format(title=title),
                [x["control"] for x in rows],
                [{"label": _("compliant %"), "data": [round(x["pct"] or 0, 1) for x in rows],
                  "colors": ["ok" if (x["pct"] or 0) >= 100 else "bad" for x in rows]}],
                unit="%", horizontal=True, max_value=100))
        unreached = []
        if summary:
            unreached = [{"host": h, "status": summary.rows[h].get("status"),
                          "reason": _text(summary.rows[h].get("reason"))}
                         for h in summary.unreached]
        layers.append({"key": key, "title": title, "summary": summary, "rows": rows,
                       "unreached": unreached, "missing": src.missing(slug, _),
                       "describe": summary.describe(noun, _) if summary else "",
                       "stale": list(summary.stale) if summary else []})
    if exposures:
        charts.append(_chart(
            "contracts", _("Local contracts: ended early vs kept to term (DKK)"),
            [e.contract.id for e in exposures],
            [{"label": _("ended early: exit fee"), "data": [float(e.early_exit_dkk)
                                                            for e in exposures], "color": "warn",
              "stack": "early"},
             {"label": _("ended early: shared charge to the contract's end"),
              "data": [float(e.shared_after_exit_dkk) for e in exposures], "color": "bad",
              "stack": "early"},
             {"label": _("kept to term (remaining payments)"),
              "data": [float(e.kept_to_term_dkk) for e in exposures], "color": "info",
              "stack": "term"}],
            stacked=True,
            unit="DKK"))
    cost_rows = view.rows(slug) if view and slug in view.amounts else []
    if view and cost_rows:
        charts.append(_chart(
            "costs", _("Cost for {period} under each allocation model (DKK)").format(
                period=view.period),
            [_(label) for _m, label, _a, _d in cost_rows],
            [{"label": t.name, "data": [float(a) if a is not None else 0
                                        for _, _, a, _ in cost_rows],
              "colors": ["accent" if m == view.chosen else "info" for m, _l, _a, _d in cost_rows]}],
            unit="DKK", horizontal=True))
    trend = _compliance_trend(inputs, slug, _)
    if trend is not None:
        charts.append(trend)
    patch_rows = patches_mod.rows([(sv.name, sv.os) for sv in t.servers],
                                  inputs.source("servers.facts").entry(slug))
    patch_trend = _patch_trend(inputs, slug, _)
    if patch_trend is not None:
        charts.append(patch_trend)
    since = inputs.today - timedelta(days=CHANGES_PERIOD_DAYS)
    lives = lifecycle_mod.servers(t, inputs.today)
    lab = _hosts_up(inputs.source("lab.status").entry(slug))
    platform = _platform(inputs.source("pulumi.outputs").entry(slug))
    drift = _drift(inputs.source("pulumi.drift").entry(slug), _)
    return {
        "t": t, "r": r, "scope": [(name, entry, coverage_mod.effective(t, name, inputs.today))
                                  for name, entry in t.scope.items()],
        "gaps": [g for g in gaps if g.tenant == slug],
        "layers": layers, "exceptions": ex_rows,
        "exceptions_by_status": {s.value: [x for x in ex_rows if x["status"] == s.value]
                                 for s in ExceptionStatus},
        "exposures": exposures, "exposure_totals": contracts_mod.totals(exposures),
        "costs": view, "cost_rows": cost_rows, "cost_live": _live_in(t, view, _, fmt or i18n.Formats("en")),
        "costs_missing": _costs_missing(inputs, view, slug, _),
        "changes": _events_for(inputs, slug, since), "changes_since": since,
        "findings": inputs.tenant_findings(slug),
        "onboarding": onboarding_status(inputs.settings, slug),
        "onboarding_record": inputs.onboarding.get(slug),
        "lab": lab, "platform": platform,
        "platform_missing": inputs.source("pulumi.outputs").missing(slug, _),
        "drift": drift, "drift_missing": inputs.source("pulumi.drift").missing(slug, _),
        "charts": charts, "charts_by": {c["id"]: c for c in charts},
        "lifecycle": {x.host: x for x in lives}, "lifecycle_counts": lifecycle_mod.counts(lives),
        "lifecycle_sources": sorted({x.life for x in lives if x.life},
                                    key=lambda life: life.name),
        "life_status": lifecycle_mod.STATUS,
        "patches": patch_rows, "patch_counts": patches_mod.counts(patch_rows),
        "patch_state": patches_mod.STATE,
        "patch_at": (inputs.source("servers.facts").entry(slug) or {}).get("generated_at"),
        "patch_missing": inputs.source("servers.facts").missing(slug, _),
        "backups": {h["host"]: h for h in
                    (inputs.source("network.backup").entry(slug) or {}).get("hosts", ())},
    }


def _compliance_trend(inputs: Inputs, slug: str, _: Callable[[str], str]) -> dict | None:
    """Compliant share of network devices and servers over the tenant's last 12 runs."""
    series = {kind: results.history(inputs.settings, kind, slug)
              for kind in ("network.compliance", "servers.verify")}
    days = sorted({p["at"][:10] for points in series.values() for p in points})[-12:]
    if not days:
        return None

    def pct(points: list[dict]) -> list[float | None]:
        last = {p["at"][:10]: p for p in points}  # the day's last run
        return [round(100 * last[d]["compliant"] / last[d]["hosts"], 1)
                if d in last and last[d]["hosts"] else None for d in days]

    return _chart("compliance-history", _("Compliance over time: compliant share per run day "
                                          "(last 12)"), days,
                  [{"label": _("network devices"), "data": pct(series["network.compliance"]),
                    "color": "info"},
                   {"label": _("servers"), "data": pct(series["servers.verify"]),
                    "color": "accent"}],
                  unit="%", max_value=100)


def _patch_trend(inputs: Inputs, slug: str, _: Callable[[str], str]) -> dict | None:
    """Servers with security updates pending, waiting for a restart and patched, over the
    tenant's last 12 facts run days."""
    days, series = patches_mod.trend(results.history(inputs.settings, "servers.facts", slug))
    if not days:
        return None
    return _chart("patch-history", _("Patch state over time: servers per run day (last 12)"),
                  days,
                  [{"label": _("security updates pending"), "data": series["security_pending"],
                    "color": "bad"},
                   {"label": _("restart due"), "data": series["reboot_required"],
                    "color": "warn"},
                   {"label": _("patched"), "data": series["patched"], "color": "ok"}],
                  unit="servers")


def _hosts_up(entry: dict | None) -> dict | None:
    """A lab.status entry as counts (read defensively: results are data from elsewhere)."""
    if not entry:
        return None
    hosts = [h for h in entry.get("hosts") or [] if isinstance(h, dict)]
    return {"up": sum(h.get("status") == "up" for h in hosts), "total": len(hosts),
            "down": [_text(h.get("host"), 80) for h in hosts if h.get("status") != "up"],
            "at": entry.get("generated_at")}


def _output_table(name: str, value: dict) -> dict | None:
    """A Pulumi output that maps names to records ({"odd-acce03": {"address": …}}) as a
    table: one row per name, one column per field; None when it is not that shape."""
    if not value or not all(isinstance(v, dict) for v in value.values()):
        return None
    columns: list[str] = []
    for record in value.values():
        columns += [str(k) for k in record if str(k) not in columns]
    rows = [[_text(key, 80)] + [_text(record.get(c), 120) for c in columns]
            for key, record in sorted(value.items())]
    return {"name": _text(name, 80), "columns": [_text(c, 40) for c in columns],
            "rows": rows[:200]}


def _platform(entry: dict | None) -> dict | None:
    """A pulumi.outputs entry as plain facts and tables of what was created."""
    if not entry:
        return None
    outputs = entry.get("outputs") if isinstance(entry.get("outputs"), dict) else {}
    changes = entry.get("changes") if isinstance(entry.get("changes"), dict) else {}
    facts: list[tuple[str, str]] = []
    tables: list[dict] = []
    for key, value in sorted(outputs.items()):
        table = _output_table(key, value) if isinstance(value, dict) else None
        if table is not None:
            tables.append(table)
        elif isinstance(value, dict):
            facts += [(f"{_text(key, 60)}.{_text(k, 60)}", _text(v, 200))
                      for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
        else:
            facts.append((_text(key, 80), _text(value, 200)))
    return {"stack": _text(entry.get("stack"), 80), "resources": entry.get("resources"),
            "ok": entry.get("ok"), "at": entry.get("generated_at"),
            "changes": ", ".join(f"{_text(k, 20)} {_text(v, 20)}" for k, v in changes.items()),
            "outputs": facts[:50], "tables": tables[:20]}


def _drift(entry: dict | None, _: Callable[[str], str]) -> dict | None:
    """A pulumi.drift entry: the objects changed or removed outside Pulumi."""
    if not entry:
        return None
    status = {"gone": _("gone"), "changed": _("changed")}
    rows = [{"resource": _text(d.get("resource"), 120), "type": _text(d.get("type"), 60),
             "status": status.get(str(d.get("status")), _text(d.get("status"), 20)),
             "keys": ", ".join(_text(k, 40) for k in d.get("keys") or ()) or "—"}
            for d in entry.get("drift") or () if isinstance(d, dict)]
    return {"stack": _text(entry.get("stack"), 80), "ok": entry.get("ok") is not False,
            "error": _text(entry.get("error"), 300), "at": entry.get("generated_at"),
            "rows": rows[:100]}


def _live_in(t, view: costs_mod.CostView | None, _: Callable[[str], str],
             fmt: i18n.Formats) -> str:
    """Whether the tenant is billed for the whole settled month, part of it, or not yet."""
    if view is None:
        return ""
    try:
        year, month = (int(x) for x in view.period.split("-"))
        start = date(year, month, 1)
    except ValueError:
        return ""
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    live = t.onboarding.target
    if live <= start:
        return _("shared since {date}: billed for the whole month").format(date=fmt.day(live))
    if live <= end:
        return _("goes live {date}: billed pro rata, {days} of {total} days").format(
            date=fmt.day(live), days=(end - live).days + 1, total=(end - start).days + 1)
    return _("goes live {date}: not billed for this month").format(date=fmt.day(live))


def _statement_context(t, view: costs_mod.CostView) -> dict:
    """One municipality's printable statement: its closed months with their components."""
    closed = view.closed(t.slug)
    used = [c for c in costs_mod.COMPONENTS if any(st.components.get(c) for st in closed)]
    totals = {c: sum((st.components.get(c, Decimal(0)) for st in closed), Decimal(0))
              for c in used}
    estimate = None
    if view.state == "estimate" and view.period not in {st.period for st in closed}:
        estimate = view.amounts.get(t.slug, {}).get(view.chosen)
    return {"t": t, "costs": view, "closed": closed, "used": used, "totals": totals,
            "total": sum((st.amount for st in closed), Decimal(0)),
            "corrections": [(st.period, c) for st in closed for c in st.corrections],
            "estimate": estimate}


def _costs_missing(inputs: Inputs, view: costs_mod.CostView | None, slug: str | None,
                   _: Callable[[str], str]) -> str:
    src = inputs.source("settlement")
    if view is None:
        return src.missing(None, _)
    if slug is not None and slug not in view.amounts:
        return _("The settlement for {period} has no figures for this municipality — run "
                 "`{command}`").format(period=view.period, command=src.command())
    return ""


def _overview_context(items: list[Readiness], inputs: Inputs, view: costs_mod.CostView | None,
                      gaps: list[coverage_mod.Gap], _: Callable[[str], str]) -> dict:
    est = inputs.estate
    labels = [r.tenant.name for r in items]
    charts = [_chart("readiness", _("Readiness score per municipality (0–100)"), labels,
                     [{"label": _("readiness score"), "data": [r.score for r in items],
                       "colors": [STATUS_COLOUR[r.status] for r in items]}],
                     unit="points", horizontal=True, max_value=100)]
    if any(r.network is not None or r.servers is not None for r in items):
        charts.append(_chart(
            "compliance", _("Compliance per municipality (%)"), labels,
            [{"label": _("network devices"), "data": [round(r.network_pct, 1)
                                                   if r.network_pct is not None else None
                                                   for r in items], "color": "info"},
             {"label": _("servers"), "data": [round(r.server_pct, 1) if r.server_pct is not None
                                           else None for r in items], "color": "accent"}],
            unit="%", max_value=100))
    if view is not None:
        charts.append(_chart(
            "costs-all", _("Cost per municipality for {period} under every model (DKK)").format(
                period=view.period),
            [r.tenant.name for r in items if r.slug in view.amounts],
            [{"label": _(view.label(m)), "data": [float(view.amounts[r.slug].get(m, 0))
                                               for r in items if r.slug in view.amounts],
              "palette": i} for i, m in enumerate(view.models)],
            unit="DKK"))
    exposure_rows = []
    for r in items:
        ex = _exposures(inputs, r.tenant)
        exposure_rows.append({"r": r, "totals": contracts_mod.totals(ex)})
    facts = inputs.source("servers.facts")
    patch_rows = []
    for r in items:
        entry = facts.entry(r.slug)
        rows = patches_mod.rows([(sv.name, sv.os) for sv in r.tenant.servers], entry)
        patch_rows.append({"r": r, "counts": patches_mod.counts(rows),
                           "at": (entry or {}).get("generated_at"),
                           "eol_soon": sum(x.eol_status in ("ending", "end of life")
                                           for x in rows)})
    all_ex = est.exceptions()
    return {
        "patch_rows": patch_rows, "patch_source": facts,
        "patch_total": {k: sum(x["counts"][k] for x in patch_rows)
                        for k in ("gathered", "security updates pending", "restart due",
                                  "patched", "not gathered", "unreachable")},
        "items": items, "waves": waves(items), "charts": charts,
        "costs": view, "costs_missing": _costs_missing(inputs, view, None, _),
        "exposure_rows": exposure_rows,
        "exposure_total": contracts_mod.totals(
            [e for t in est.tenants for e in _exposures(inputs, t)]),
        "gaps": gaps, "high_gaps": [g for g in gaps if g.severity == "high"],
        "counts": {
            "tenants": len(items), "population": sum(t.population for t in est.tenants),
            "ready": sum(r.ready for r in items),
            "late": sum(r.status == "late" for r in items),
            "due_soon": sum(r.status == "due soon" for r in items),
            "exceptions": len(all_ex),
            "expiring": sum(k.status is ExceptionStatus.EXPIRING for k in all_ex),
            "expired": sum(k.status is ExceptionStatus.EXPIRED for k in all_ex),
            "blocking_contracts": sum(x["totals"].blocking for x in exposure_rows),
            "servers": sum(len(t.servers) for t in est.tenants),
            "devices": sum(len(t.network_devices) for t in est.tenants),
        },
        "sources": [inputs.source(k.kind) for k in KINDS],
    }


# ------------------------------------------------------------------ writing


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _copy_static(directory: Path) -> None:
    static = resources.files("faellesdrift") / "templates" / "reports" / "static"
    out = directory / "static"
    out.mkdir(parents=True, exist_ok=True)
    for name in STATIC_FILES:
        with resources.as_file(static / name) as src:
            shutil.copyfile(src, out / name)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def build_site(settings: Settings, *, tenants: list[str] | None = None,
               model: str | None = None, output_dir: Path | None = None,
               today: date | None = None, lang: str = "en") -> Site:
    """Write the report site in ``lang`` ("da" or "en") and return where it is. The ``report``
    command asks for Danish unless told otherwise; called as a library the site stays English,
    as it was. Raises ConfigError only for a community.yaml that cannot be read, an unknown
    tenant, model or language."""
    costs_mod.check_model(model)
    lang = i18n.check_language(lang)
    _ = i18n.translations(lang).gettext
    inputs = gather(settings, today=today, tenants=tenants)
    directory = (output_dir or settings.state_dir / "reports").resolve()
    est = inputs.estate
    items = readiness(inputs, _, i18n.Formats(lang))
    gaps = coverage_mod.gaps(est.tenants, inputs.today, _, i18n.Formats(lang))
    settlement = est.standards.settlement
    view = costs_mod.cost_view(inputs.source("settlement").payload, est.slugs, chosen=model,
                               default_model=settlement.default_model if settlement else None)
    env = _environment(lang)
    common = {
        "community": est.standards, "today": inputs.today, "deadline": DEADLINE,
        "days_left": days_left(inputs.today), "version": __version__,
        "generated": clock.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "valid": inputs.valid, "community_errors": inputs.community_errors(),
        "errors": [f for f in inputs.findings if f.severity == "error"],
        "unparsed": inputs.unparsed, "audit_error": inputs.audit_error,
        "scoped": bool(tenants), "tenants": est.tenants, "status_colour": STATUS_COLOUR,
        "period_days": CHANGES_PERIOD_DAYS,
    }
    pages: list[Path] = []

    def render(template: str, rel: str, **ctx: Any) -> None:
        depth = rel.count("/")
        html = env.get_template(template).render(**common, **ctx, root="../" * depth, page=rel)
        path = directory / rel
        _write(path, html)
        pages.append(path)

    render("index.html.j2", "index.html", **_overview_context(items, inputs, view, gaps, _))
    for r in items:
        render("tenant.html.j2", f"tenants/{r.slug}.html",
               **_tenant_context(r, inputs, view, gaps, _, i18n.Formats(lang)))
        if view is not None and r.slug in view.amounts:
            render("statement.html.j2", f"statements/{r.slug}.html",
                   **_statement_context(r.tenant, view))
    render("coverage.html.j2", "coverage.html", gaps=gaps,
           matrix=coverage_mod.matrix(est.tenants, gaps, inputs.today), order=coverage_mod.ORDER,
           effective={t.slug: {sv: coverage_mod.effective(t, sv, inputs.today)
                               for sv in coverage_mod.ORDER} for t in est.tenants},
           why=coverage_mod.WHY)
    ex_rows = [_exception_row(k, inputs) for k in est.exceptions()]
    render("exceptions.html.j2", "exceptions.html", rows=ex_rows,
           by_status={s.value: [x for x in ex_rows if x["status"] == s.value]
                      for s in ExceptionStatus})
    render("decisions.html.j2", "decisions.html", rows=_decisions(inputs, _, i18n.Formats(lang)),
           shown=DECISIONS_SHOWN, audit_log=settings.audit_log)
    if not tenants:  # a full run owns tenants/ and statements/: drop pages of tenants that left
        keep = {p.relative_to(directory) for p in pages}
        for sub in ("tenants", "statements"):
            for old in (directory / sub).glob("*.html"):
                if old.relative_to(directory) not in keep:
                    old.unlink()
    _copy_static(directory)
    data = {
        "generated_at": common["generated"], "lang": lang, "today": inputs.today,
        "deadline": DEADLINE,
        "valid": inputs.valid, "tenants": [r.to_dict() for r in items],
        "coverage_gaps": [g.to_dict() for g in gaps],
        "contracts": [e.to_dict() for t in est.tenants
                      for e in _exposures(inputs, t)],
        "server_lifecycle": {t.slug: [x.to_dict() for x in lifecycle_mod.servers(t, inputs.today)]
                             for t in est.tenants},
        "server_patches": {t.slug: [x.to_dict() for x in patches_mod.rows(
            [(sv.name, sv.os) for sv in t.servers], inputs.source("servers.facts").entry(t.slug))]
                           for t in est.tenants},
        "costs": None if view is None else {
            "period": view.period, "state": view.state, "chosen": view.chosen,
            "models": list(view.models), "amounts": view.amounts,
            "closed_months": [m.period for m in view.closed_months],
            "estimated_months": [m.period for m in view.estimated_months],
            "components": {slug: {m: parts for m, parts, _a in view.components(slug)}
                           for slug in view.amounts}},
        "sources": {k.kind: inputs.source(k.kind).generated_at for k in KINDS},
    }
    _write(directory / "report.json",
           json.dumps(data, indent=1, ensure_ascii=False, default=_json_default) + "\n")
    pages.append(directory / "report.json")
    expired = None if blocking(inputs.findings) else expired_note(est)
    return Site(directory, directory / "index.html", tuple(pages), expired)
