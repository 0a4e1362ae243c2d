"""What a report reads, gathered once: the community, run results, the audit log, onboarding.

Reports read results, not adapters' internals (DESIGN): everything here comes
from the tenant files (through the model layer), ``faellesdrift.results``,
``faellesdrift.audit`` and the onboarding records. A source that does not
exist yet is not an error: it is a ``Source`` with no payload, and the page
says which command produces it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from faellesdrift import audit, clock, results
from faellesdrift.community import load_community
from faellesdrift.errors import ConfigError
from faellesdrift.estate import Estate
from faellesdrift.findings import Finding
from faellesdrift.guardrails import run_guardrails
from faellesdrift.onboarding_record import load_record
from faellesdrift.reports.i18n import N_
from faellesdrift.settings import Settings


def _untranslated(message: str) -> str:
    return message


@dataclass(frozen=True)
class Kind:
    """A results kind as the reports name it, and the command that produces it."""

    kind: str
    label: str  # "network compliance run"
    command: str  # "faellesdrift network compliance"
    per_tenant: bool = True  # the command takes --tenant


#: The results the reports read, in the order the overview lists them.
KINDS: tuple[Kind, ...] = (
    Kind("network.compliance", N_("network compliance run"), "faellesdrift network compliance"),
    Kind("network.backup", N_("network backup"), "faellesdrift network backup"),
    Kind("servers.verify", N_("server verification"), "faellesdrift verify"),
    Kind("servers.apply", N_("server baseline apply"), "faellesdrift servers apply"),
    Kind("servers.facts", N_("server patch state run"), "faellesdrift servers facts"),
    Kind("pulumi.outputs", N_("platform (Pulumi) apply"), "faellesdrift pulumi apply"),
    Kind("pulumi.drift", N_("platform drift check"), "faellesdrift pulumi drift"),
    Kind("settlement", N_("settlement"), "faellesdrift bill --compare --period YYYY-MM",
         per_tenant=False),
    Kind("lab.status", N_("lab"), "faellesdrift lab up", per_tenant=False),
)
KIND_BY_NAME = {k.kind: k for k in KINDS}


@dataclass(frozen=True)
class Source:
    """One kind of results: its merged payload, or why there is none."""

    spec: Kind
    payload: dict | None
    error: str | None = None  # the file exists but cannot be read

    @property
    def available(self) -> bool:
        return self.payload is not None

    @property
    def generated_at(self) -> str | None:
        return self.payload.get("generated_at") if self.payload else None

    def entry(self, slug: str) -> dict | None:
        return results.tenant_entry(self.payload, slug)

    def command(self, slug: str | None = None) -> str:
        if slug and self.spec.per_tenant:
            return f"{self.spec.command} --tenant {slug}"
        return self.spec.command

    def missing(self, slug: str | None = None,
                gettext: Callable[[str], str] = _untranslated) -> str:
        """One plain sentence for a section that has no data from this source, in the
        language of ``gettext``."""
        label = gettext(self.spec.label)
        if self.error:
            return gettext("The {label} results cannot be read: {error}").format(
                label=label, error=self.error)
        if self.payload is not None and slug is not None:
            return gettext("The last {label} did not include this municipality — run "
                           "`{command}`").format(label=label, command=self.command(slug))
        return gettext("No {label} yet — run `{command}`").format(
            label=label, command=self.command(slug))


@dataclass(frozen=True)
class Inputs:
    settings: Settings
    estate: Estate
    today: date
    findings: tuple[Finding, ...]
    files: dict[str, str]  # tenant slug -> its file as shown in findings
    unparsed: tuple[str, ...]  # tenant files that did not parse: not in this report
    sources: dict[str, Source]
    events: tuple[dict, ...]  # the audit log
    audit_error: str | None
    onboarding: dict[str, dict] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def tenant_findings(self, slug: str) -> list[Finding]:
        file = self.files.get(slug)
        return [f for f in self.findings if file and f.file == file]

    def errors(self, slug: str) -> list[Finding]:
        return [f for f in self.tenant_findings(slug) if f.severity == "error"]

    def community_errors(self) -> list[Finding]:
        """Errors outside any tenant's own file (e.g. community.yaml)."""
        mine = set(self.files.values())
        return [f for f in self.findings if f.severity == "error" and f.file not in mine]

    def source(self, kind: str) -> Source:
        return self.sources[kind]

    @cached_property
    def events_by_tenant(self) -> dict[str, list[dict]]:
        """Audit events grouped by their ``tenant`` ("" for community-wide events)."""
        out: dict[str, list[dict]] = {}
        for e in self.events:
            out.setdefault(str(e.get("tenant") or ""), []).append(e)
        return out


def _load_source(settings: Settings, spec: Kind) -> Source:
    try:
        return Source(spec, results.load(settings, spec.kind))
    except results.ResultsError as exc:
        return Source(spec, None, str(exc))


def _load_audit(log: Path) -> tuple[tuple[dict, ...], str | None]:
    events: list[dict] = []
    try:
        for event in audit.read(log):
            if isinstance(event, dict):
                events.append(event)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return tuple(events), (f"{log}: a line is not valid JSON ({exc}); events after it are "
                               "not shown — the file is append-only, repair that line by hand")
    except OSError as exc:
        return (), f"{log}: cannot be read ({exc.strerror})"
    return tuple(events), None


def gather(settings: Settings, *, today: date | None = None,
           tenants: list[str] | None = None) -> Inputs:
    """Everything the reports read. Raises ConfigError only when community.yaml is unusable
    or a requested tenant does not exist; a community with errors is still reported."""
    today = today or clock.today()
    community, findings = load_community(settings.root)
    if community is None:
        first = findings[0].one_line() if findings else "community.yaml cannot be read"
        raise ConfigError(f"{first} — run `faellesdrift validate` for every finding")
    findings += run_guardrails(community, today)
    files = {s.tenant.slug: s.file for s in community.sources}
    parsed = set(files.values())
    unparsed = tuple(sorted({f.file for f in findings
                             if f.file.startswith("tenants/") and f.file not in parsed}))
    estate = Estate.build(community, today, findings)
    if tenants:
        estate = estate.subset(tenants)
    sources = {spec.kind: _load_source(settings, spec) for spec in KINDS}
    events, audit_error = _load_audit(settings.audit_log)
    onboarding = {slug: rec for slug in estate.slugs
                  if (rec := load_record(settings, slug)) is not None}
    return Inputs(settings, estate, today, tuple(findings), files, unparsed, sources,
                  events, audit_error, onboarding)
