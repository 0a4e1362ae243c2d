"""The Estate: the resolved, immutable community every adapter receives.

Every layer asks it one question — what is the effective value of control C
for host H today? — and gets the standard value or an active exception's
value, with where it came from.

Expired exceptions never apply: the standard value returns on their hosts. They
are errors for ``validate`` (so CI flags them) but never stop the estate from
building, so one municipality's lapsed paperwork holds up nobody's run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from faellesdrift import clock
from faellesdrift.community import Community, load_community
from faellesdrift.errors import ConfigError, ValidationFailed
from faellesdrift.findings import Finding, has_errors
from faellesdrift.guardrails import EXPIRY_WARNING_DAYS, run_guardrails
from faellesdrift.model import ExceptionRecord, NetworkDevice, Server, Standards, Tenant


class ExceptionStatus(str, Enum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"


def exception_status(record: ExceptionRecord, today: date) -> ExceptionStatus:
    if record.expires is None or record.expires < today:
        return ExceptionStatus.EXPIRED
    if (record.expires - today).days <= EXPIRY_WARNING_DAYS:
        return ExceptionStatus.EXPIRING
    return ExceptionStatus.ACTIVE


@dataclass(frozen=True)
class KeptException:
    tenant: str
    record: ExceptionRecord
    status: ExceptionStatus

    @property
    def applies(self) -> bool:
        return self.status is not ExceptionStatus.EXPIRED


class Host(NamedTuple):
    """One server or network device of the estate (a tuple: an estate builds 100,000 of them)."""

    name: str
    tenant: str
    kind: Literal["server", "network_device"]
    spec: Server | NetworkDevice


@dataclass(frozen=True)
class Effective:
    control: str
    host: str
    value: Any
    source: str  # "standard" or the id of the exception that keeps a local value
    exception: KeptException | None = None

    @property
    def is_exception(self) -> bool:
        return self.exception is not None


@dataclass(frozen=True)
class Estate:
    root: Path
    standards: Standards
    tenants: tuple[Tenant, ...]
    today: date
    warnings: tuple[Finding, ...] = ()

    @classmethod
    def build(cls, community: Community, today: date,
              warnings: Iterable[Finding] = ()) -> Estate:
        tenants = tuple(sorted((s.tenant for s in community.sources), key=lambda t: t.slug))
        return cls(community.root, community.standards, tenants, today, tuple(warnings))

    # The indexes are built on first use: `validate` never needs them.

    @cached_property
    def _hosts(self) -> Mapping[str, Host]:
        hosts: dict[str, Host] = {}
        for t in self.tenants:
            for s in t.servers:
                hosts[s.name] = Host(s.name, t.slug, "server", s)
            for d in t.network_devices:
                hosts[d.name] = Host(d.name, t.slug, "network_device", d)
        return MappingProxyType(hosts)

    @cached_property
    def _exceptions(self) -> tuple[KeptException, ...]:
        return tuple(KeptException(t.slug, ex, exception_status(ex, self.today))
                     for t in self.tenants for ex in t.exceptions)

    @cached_property
    def _kept(self) -> Mapping[tuple[str, str], KeptException]:
        return MappingProxyType({(k.record.control, h): k for k in self._exceptions
                                 if k.applies for h in k.record.hosts})

    # -- questions adapters ask -------------------------------------------------

    def effective(self, control_id: str, host: str) -> Effective:
        control = self.standards.control(control_id)
        if control is None:
            raise ConfigError(f"no control {control_id!r} in the catalog (community.yaml)")
        if host not in self._hosts:
            raise ConfigError(f"no host {host!r} in the estate")
        kept = self._kept.get((control_id, host))
        if kept is not None:
            return Effective(control_id, host, kept.record.value, kept.record.id, kept)
        return Effective(control_id, host, control.default, "standard")

    def tenant(self, slug: str) -> Tenant:
        for t in self.tenants:
            if t.slug == slug:
                return t
        raise ConfigError(f"no tenant {slug!r}; known: {', '.join(self.slugs)}")

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(t.slug for t in self.tenants)

    def host(self, name: str) -> Host:
        try:
            return self._hosts[name]
        except KeyError:
            raise ConfigError(f"no host {name!r} in the estate") from None

    def hosts(self, kind: str | None = None, tenant: str | None = None) -> tuple[Host, ...]:
        return tuple(h for h in self._hosts.values()
                     if (kind is None or h.kind == kind) and (tenant is None or h.tenant == tenant))

    def exceptions(self, tenant: str | None = None) -> tuple[KeptException, ...]:
        return tuple(k for k in self._exceptions if tenant is None or k.tenant == tenant)

    def expired(self) -> tuple[KeptException, ...]:
        """Exceptions that no longer apply (the standard value is used on their hosts)."""
        return tuple(k for k in self._exceptions if k.status is ExceptionStatus.EXPIRED)

    def exceptions_for(self, host: str) -> tuple[KeptException, ...]:
        """Active (or expiring) exceptions that keep a local value on this host."""
        return tuple(k for (_, h), k in self._kept.items() if h == host)

    def subset(self, slugs: Iterable[str]) -> Estate:
        """A shard: the same standards, only these tenants (results merge by tenant)."""
        wanted = set(slugs)
        for slug in wanted:
            self.tenant(slug)
        return Estate(self.root, self.standards,
                      tuple(t for t in self.tenants if t.slug in wanted), self.today,
                      self.warnings)


def tenant_group(slug: str) -> str:
    """The inventory group of a tenant's hosts, the same in every inventory (Nornir and
    Ansible); Ansible group names cannot hold '-'."""
    return "tenant_" + slug.replace("-", "_")


#: the one error that leaves the estate usable: the exception just stops applying
EXPIRED_RULE = "exception.expired"


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """Errors that stop the estate from building: every error but an expired exception."""
    return [f for f in findings if f.severity == "error" and f.rule != EXPIRED_RULE]


@dataclass(frozen=True)
class Validation:
    estate: Estate | None  # built unless there are blocking errors
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """No errors at all (expired exceptions count: CI must flag them)."""
        return not has_errors(list(self.findings))


@contextmanager
def _built_without_collections() -> Iterator[None]:
    """Build an estate without Python's cyclic garbage collector walking it.

    Loading creates hundreds of thousands of acyclic objects (parsed YAML, models) that
    stay alive; every automatic collection walks all of them again, which was about half
    the time to validate a 100,000-host estate. So: hand back to the collector what an
    earlier build froze and collect what is garbage now (cheap, before the estate
    exists), pause the collector while building, then move what was built to the
    permanent generation (``gc.freeze``), which later collections skip. Reference
    counting still frees the estate when it is dropped: it holds no reference cycles.
    """
    was_enabled = gc.isenabled()
    gc.unfreeze()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def validate(root: Path, today: date | None = None, files: list[Path] | None = None
             ) -> Validation:
    """Load, schema-check and run the guardrails.

    The estate is built when the only errors are expired exceptions; any other
    error leaves it out.
    """
    today = today or clock.today()
    with _built_without_collections():
        community, findings = load_community(root, files)
        if community is not None:
            findings += run_guardrails(community, today)
        if community is None or blocking(findings):
            return Validation(None, tuple(findings))
        return Validation(Estate.build(community, today, findings), tuple(findings))


def load_estate(root: Path, today: date | None = None) -> Estate:
    """The estate every command works on, or ValidationFailed carrying the blocking findings."""
    result = validate(root, today)
    if result.estate is None:
        raise ValidationFailed(blocking(result.findings) or list(result.findings))
    return result.estate


def expired_note(estate: Estate) -> str | None:
    """One line naming the expired exceptions a run ignores, or None when there are none."""
    gone = estate.expired()
    if not gone:
        return None
    names = "; ".join(f"{k.record.id} ({k.tenant}, {k.record.control}, expired "
                      f"{k.record.expires})" for k in gone)
    return (f"{len(gone)} expired exception(s) ignored, the standard value applies: {names} "
            "— renew or remove them (faellesdrift validate)")
