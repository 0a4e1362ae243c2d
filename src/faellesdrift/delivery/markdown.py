"""The review as Markdown for a pull-request comment (GitHub and GitLab flavoured).

Everything from the tenant files is data: table cells are escaped (no markup, no
HTML, no line breaks) and diffs sit in fenced blocks longer than any backtick run
they hold.
"""

from __future__ import annotations

import re

from faellesdrift.delivery.changes import Change, shown_value
from faellesdrift.delivery.costs import CostImpact
from faellesdrift.delivery.review import Review
from faellesdrift.metering.settle import dkk

MARKER = "<!-- faellesdrift-review -->"  # lets a CI job find and update its own comment
LIMIT = 60_000  # GitHub refuses comments over 65,536 characters; GitLab notes over 1,000,000
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def cell(value: object) -> str:
    text = " ".join(str(value).split())
    return _SPECIAL.sub(r"\\\1", text) if text else "–"


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else cell(text)


def _fence(body: str, lang: str = "") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", body, fence]


def _table(columns: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return out


def _money(ore: int | None) -> str:
    return "–" if ore is None else f"DKK {dkk(ore)}"


def _signed(ore: int) -> str:
    return ("+" if ore > 0 else "-" if ore < 0 else "") + f"DKK {dkk(abs(ore))}"


def _change_row(c: Change) -> list[object]:
    return [c.tenant or "community", c.kind.replace("_", " "), c.subject, c.action,
            "; ".join(c.details)]


def _cost_rows(costs: list[CostImpact]) -> list[list[object]]:
    rows = []
    for c in costs:
        if c.error:
            rows.append([c.tenant, c.model, c.year or "–", "–", "–", "–", c.error])
            continue
        rows.append([c.tenant, c.model, c.year, _money(c.before_ore), _money(c.after_ore),
                     _signed(c.delta_ore), _signed(c.others_delta_ore)])
    return rows


def render(r: Review, limit: int = LIMIT) -> str:
    """The summary; past ``limit`` characters the config diffs are left out (they are in
    the JSON output) so the comment is still accepted."""
    text = _render(r, diffs=True)
    if len(text) <= limit:
        return text
    return _render(r, diffs=False)


def _render(r: Review, *, diffs: bool) -> str:
    verdict = "✅ valid" if r.valid else "❌ invalid"
    if r.valid and not r.ok:
        verdict = "❌ blocked"
    tenants = ", ".join(r.changes.tenants) or "none"
    lines = [MARKER, f"## faellesdrift review — {verdict}", "",
             f"Compared with `{r.base[:12]}` (where this change branched off "
             f"{_code(r.base_ref)}). Affected tenants: **{cell(tenants)}**."
             + (" The working tree has uncommitted changes." if r.dirty else ""), ""]

    lines += ["### What changes", ""]
    if r.changes.changes:
        lines += _table(["tenant", "what", "which", "change", "details"],
                        [_change_row(c) for c in r.changes.changes])
    else:
        lines.append("No change to the community's definition files.")
    lines.append("")

    if r.changes.values:
        lines += ["### Effective values that change", "",
                  "What the devices, servers and platform get (secret values masked).", ""]
        lines += _table(["tenant", "host", "control", "before", "after", "by"],
                        [[v.tenant, v.host, v.control,
                          "–" if v.before is None else shown_value(v.before),
                          shown_value(v.after), v.source_after] for v in r.changes.values])
        lines.append("")

    exceptions = [c for c in r.changes.changes if c.kind == "exception"]
    if exceptions or r.changes.expiring:
        lines += ["### Exceptions", ""]
        for c in exceptions:
            lines.append(f"- **{cell(c.subject)}** ({cell(c.tenant)}): {cell(c.action)}"
                         + (f" — {cell('; '.join(c.details))}" if c.details else ""))
        for e in r.changes.expiring:
            lines.append(f"- ⚠️ **{cell(e.id)}** ({cell(e.tenant)}, {cell(e.control)}) is "
                         f"{e.status}: expires {e.expires or 'never set'}")
        lines.append("")

    lines += ["### Who must approve", ""]
    if r.approvals:
        lines += _table(["change", "tenant", "who must approve"],
                        [[a.what, a.tenant or "community", ", ".join(a.owners)]
                         for a in r.approvals])
        lines.append("")
    if r.code_owners:
        lines += ["Code owners of the changed files (`faellesdrift codeowners`):", ""]
        lines += [f"- `{path}`: {cell(', '.join(owners) or 'nobody')}"
                  for path, owners in sorted(r.code_owners.items())]
    elif not r.approvals:
        lines.append("No approval beyond the usual review.")
    lines.append("")

    lines += ["### Validation", ""]
    if not r.findings:
        lines.append("✅ The files this change touches have no findings.")
    for f in r.findings:
        mark = "❌" if f.severity == "error" else "⚠️"
        lines.append(f"- {mark} `{f.where()}` {cell(f.field)} **{cell(f.rule)}**: "
                     f"{cell(f.message)}" + (f" — fix: {cell(f.fix)}" if f.fix else ""))
    if r.elsewhere:
        lines += ["", f"{len(r.elsewhere)} error(s) in files this change does not touch "
                      "(they do not block it): "
                  + "; ".join(f"`{f.where()}` {cell(f.rule)}" for f in r.elsewhere)]
    lines.append("")

    if r.plans:
        lines += ["### Plans (only what this change touches)", ""]
        mark = {"done": "✅", "failed": "❌", "skipped": "➖"}
        for p in r.plans:
            lines.append(f"- {mark[p.status]} **{cell(p.title)}**: {cell(p.summary)}"
                         + (f" — {_code(p.command)}" if p.command.startswith("faellesdrift")
                            else ""))
        for v in r.violations:
            lines.append(f"  - ❌ policy {cell(v.get('policy'))} on "
                         f"{cell(v.get('resource') or '-')}: {cell(v.get('message'))}")
        if not diffs and any(p.diffs for p in r.plans):
            lines += ["", ("The intended-config diffs are too long for a comment: see "
                          "`faellesdrift review -o json` (plans[].diffs) in the job's output.")]
        for p in r.plans:
            for host, diff in sorted(p.diffs.items()) if diffs else ():
                added = sum(x.startswith("+") and not x.startswith("+++")
                            for x in diff.splitlines())
                removed = sum(x.startswith("-") and not x.startswith("---")
                              for x in diff.splitlines())
                lines += ["", (f"<details><summary>{cell(host)}: +{added} −{removed} "
                              "line(s) of intended config</summary>"), ""]
                lines += _fence(diff, "diff")
                lines += ["", "</details>"]
            for host, h in sorted(p.details.get("hosts", {}).items()):
                if h.get("tasks"):
                    lines.append(f"  - {cell(host)} would change: "
                                 + cell("; ".join(h["tasks"])))
        lines.append("")

    if r.costs:
        lines += ["### Cost impact", "",
                  ("Settled for a whole year before and after this change, on the usage the "
                  "tenant files declare, under the community's model."), ""]
        lines += _table(["municipality", "model", "year", "before", "after", "difference",
                         "other municipalities"], _cost_rows(r.costs))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
