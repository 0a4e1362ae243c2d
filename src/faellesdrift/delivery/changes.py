"""What a change does to the community: the base and the changed version, compared model
to model (never YAML text to YAML text), tenant by tenant.

A change is data: which tenant, what kind of thing (a server, an exception, a
field), which one, what happened (added, removed, changed; for exceptions also
renewed, shortened, widened, narrowed, value changed) and the details. Changes
that need a decision beyond the file's code owners name the roles that must
approve them (``APPROVAL``): a new or widened exception is the board's decision as
well as the municipality's; fields that bind the municipality (scope, contracts,
population, contacts, approvers, onboarding) need its approvers and operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from faellesdrift.estate import Estate, ExceptionStatus
from faellesdrift.model import ExceptionRecord, Standards, Tenant, is_record, plain

#: roles that must approve, per kind of change (beyond the file's code owners)
EXCEPTION_DECISIONS = {"added", "renewed", "widened", "value changed", "control changed",
                       "category changed", "delivery changed"}
BINDING_FIELDS = ("scope", "contracts", "population", "contacts", "approvers", "onboarding",
                  "code")
APPROVAL: dict[str, tuple[str, ...]] = {
    "exception": ("tenant", "board"),
    "binding": ("tenant", "operations"),
    "standards": ("board",),
}
# lists of named things are compared item by item, every other tenant field as a whole
_LISTS = {"servers": ("server", "name"), "network_devices": ("network_device", "name"),
          "networks": ("network", "name"), "other_assets": ("other_asset", "name"),
          "contracts": ("contract", "id")}
_WHOLE = tuple(f for f in Tenant.model_fields if f not in _LISTS and f != "exceptions")


@dataclass(frozen=True)
class Change:
    tenant: str  # slug; "" for the community standards
    kind: str  # tenant, server, network_device, network, other_asset, contract, exception,
    # field, standards
    subject: str  # the host, exception id, contract id or field name
    actions: tuple[str, ...]  # added, removed, changed, renewed, widened, …
    details: tuple[str, ...] = ()
    approve: tuple[str, ...] = ()  # roles that must approve: tenant, operations, board

    @property
    def action(self) -> str:
        return ", ".join(self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "kind": self.kind, "subject": self.subject,
                "actions": list(self.actions), "details": list(self.details),
                "approve": list(self.approve)}


@dataclass(frozen=True)
class ValueChange:
    """The effective value of one control on one host, before and after."""

    tenant: str
    host: str
    kind: str  # server or network_device
    control: str
    before: Any  # None when the control is new to the catalog
    after: Any
    source_before: str
    source_after: str

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "host": self.host, "kind": self.kind,
                "control": self.control,
                "before": self.before, "after": self.after,
                "source_before": self.source_before, "source_after": self.source_after}


@dataclass(frozen=True)
class ExceptionNote:
    """An exception of an affected tenant that is expiring or expired after the change."""

    tenant: str
    id: str
    control: str
    status: str
    expires: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "id": self.id, "control": self.control,
                "status": self.status, "expires": self.expires}


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[Change, ...]
    values: tuple[ValueChange, ...] = ()
    expiring: tuple[ExceptionNote, ...] = ()
    standards_changed: tuple[str, ...] = ()  # top-level keys of community.yaml that changed
    files: tuple[str, ...] = ()  # changed community files, as git names them

    @property
    def tenants(self) -> tuple[str, ...]:
        """The affected tenants: changed ones, or every tenant when the standards changed."""
        return tuple(sorted({c.tenant for c in self.changes if c.tenant}
                            | {v.tenant for v in self.values}))

    def hosts(self, kind: str, tenant: str | None = None) -> tuple[str, ...]:
        """Hosts of a kind added or changed (what to plan and apply), new ones included."""
        named = {c.subject for c in self.changes
                 if c.kind == kind and "removed" not in c.actions
                 and (tenant is None or c.tenant == tenant)}
        named |= {v.host for v in self.values if v.kind == kind
                  and (tenant is None or v.tenant == tenant)}
        return tuple(sorted(named))

    def of(self, tenant: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.tenant == tenant)

    def to_dict(self) -> dict[str, Any]:
        return {"files": list(self.files), "tenants": list(self.tenants),
                "standards_changed": list(self.standards_changed),
                "changes": [c.to_dict() for c in self.changes],
                "effective_values": [v.to_dict() for v in self.values],
                "expiring": [e.to_dict() for e in self.expiring]}


# ------------------------------------------------------------------ comparing


def shown_value(value: Any) -> str:
    """A control or field value in words: lists joined, records as key=value."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={shown_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _plain(value: Any) -> Any:
    return plain(value, exclude_none=True)


def _short(value: Any) -> str:
    text = shown_value(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field_diffs(before: Any, after: Any, prefix: str = "") -> list[str]:
    a, b = _plain(before), _plain(after)
    out = []
    for key in dict.fromkeys([*a, *b]):
        if a.get(key) != b.get(key):
            out.append(f"{prefix}{key}: {_short(a.get(key))} → {_short(b.get(key))}")
    return out


def _compare_lists(slug: str, kind: str, key: str, before: Sequence[Any],
                   after: Sequence[Any], approve: tuple[str, ...] = ()) -> list[Change]:
    old = {getattr(x, key): x for x in before}
    new = {getattr(x, key): x for x in after}
    out = []
    for name in sorted(new.keys() - old.keys()):
        out.append(Change(slug, kind, name, ("added",), tuple(_summary(new[name])), approve))
    for name in sorted(old.keys() - new.keys()):
        out.append(Change(slug, kind, name, ("removed",), (), approve))
    for name in sorted(old.keys() & new.keys()):
        if old[name] != new[name]:
            out.append(Change(slug, kind, name, ("changed",),
                              tuple(_field_diffs(old[name], new[name])), approve))
    return out


def _summary(item: Any) -> list[str]:
    return [", ".join(f"{k}: {_short(v)}" for k, v in _plain(item).items()
                      if v not in (None, [], {}))]


def exception_actions(old: ExceptionRecord, new: ExceptionRecord) -> tuple[str, ...]:
    actions = []
    if (new.expires or old.expires) and new.expires != old.expires:
        later = old.expires is None or (new.expires is not None and new.expires > old.expires)
        actions.append("renewed" if later else "shortened")
    if set(new.hosts) - set(old.hosts):
        actions.append("widened")
    if set(old.hosts) - set(new.hosts):
        actions.append("narrowed")
    if new.control != old.control:
        actions.append("control changed")
    if new.value != old.value:
        actions.append("value changed")
    if new.category != old.category:
        actions.append("category changed")
    if new.delivery != old.delivery:
        actions.append("delivery changed")
    if not actions:
        actions.append("changed")
    return tuple(actions)


def _exception_details(old: ExceptionRecord | None, new: ExceptionRecord | None,
                       standards: Standards) -> tuple[str, ...]:
    def shown(record: ExceptionRecord) -> Any:
        control = standards.control(record.control)
        return control.shown(record.value) if control else record.value

    if new is None:
        assert old is not None
        return (f"{old.control} on {', '.join(old.hosts)}: the standard value returns",)
    if old is None:
        return (f"{new.control} = {_short(shown(new))} on {', '.join(new.hosts)}",
                (f"{new.category}, approved by {new.approved_by or '(nobody yet)'} on "
                f"{new.approved_on or '-'}, expires {new.expires or '-'}"),
                f"justification: {new.justification}")
    out = []
    if old.expires != new.expires:
        out.append(f"expires: {old.expires} → {new.expires}")
    if old.approved_on != new.approved_on or old.approved_by != new.approved_by:
        out.append(f"approved: {old.approved_by} on {old.approved_on} → {new.approved_by} on "
                   f"{new.approved_on}")
    if old.hosts != new.hosts:
        out.append(f"hosts: {', '.join(old.hosts)} → {', '.join(new.hosts)}")
    if old.value != new.value:
        out.append(f"value: {_short(shown(old))} → {_short(shown(new))}")
    rest = [d for d in _field_diffs(old, new)
            if d.split(":")[0] not in ("expires", "approved_on", "approved_by", "hosts",
                                       "value")]
    return tuple(out + rest)


def _exceptions(slug: str, before: Tenant | None, after: Tenant | None,
                standards: Standards) -> list[Change]:
    old = {e.id: e for e in (before.exceptions if before else ())}
    new = {e.id: e for e in (after.exceptions if after else ())}
    out = []
    for eid in sorted(new.keys() - old.keys()):
        out.append(Change(slug, "exception", eid, ("added",),
                          _exception_details(None, new[eid], standards), APPROVAL["exception"]))
    for eid in sorted(old.keys() - new.keys()):
        out.append(Change(slug, "exception", eid, ("removed",),
                          _exception_details(old[eid], None, standards)))
    for eid in sorted(old.keys() & new.keys()):
        if old[eid] == new[eid]:
            continue
        actions = exception_actions(old[eid], new[eid])
        approve = APPROVAL["exception"] if set(actions) & EXCEPTION_DECISIONS else ()
        out.append(Change(slug, "exception", eid, actions,
                          _exception_details(old[eid], new[eid], standards), approve))
    return out


def compare_tenant(before: Tenant | None, after: Tenant | None,
                   standards: Standards) -> list[Change]:
    """Every change of one tenant file, model to model."""
    slug = (after or before).slug  # type: ignore[union-attr]
    if before is None:
        assert after is not None
        return [Change(slug, "tenant", slug, ("added",),
                       ((f"{after.name} ({after.code}), {len(after.servers)} server(s), "
                        f"{len(after.network_devices)} device(s), "
                        f"{len(after.exceptions)} exception(s)"),),
                       APPROVAL["binding"]),
                *_exceptions(slug, None, after, standards)]
    if after is None:
        return [Change(slug, "tenant", slug, ("removed",), (), APPROVAL["binding"])]
    out: list[Change] = []
    for name in _WHOLE:
        a, b = getattr(before, name), getattr(after, name)
        if a != b:
            details = (_field_diffs(a, b, f"{name}.") if is_record(a)
                       else [f"{name}: {_short(_plain(a))} → {_short(_plain(b))}"])
            approve = APPROVAL["binding"] if name in BINDING_FIELDS else ()
            out.append(Change(slug, "field", name, ("changed",), tuple(details), approve))
    for name, (kind, key) in _LISTS.items():
        approve = APPROVAL["binding"] if name in BINDING_FIELDS else ()
        out += _compare_lists(slug, kind, key, getattr(before, name), getattr(after, name),
                              approve)
    out += _exceptions(slug, before, after, standards)
    return out


def standards_diff(before: Standards | None, after: Standards) -> tuple[str, ...]:
    if before is None:
        return tuple(type(after).model_fields)
    return tuple(k for k in type(after).model_fields
                 if getattr(before, k) != getattr(after, k))


def effective_changes(before: Estate | None, after: Estate, tenants: Iterable[str]
                      ) -> list[ValueChange]:
    """Per host of the given tenants and per control: the effective value before and after
    (secret values masked). A new host lists every value it will get."""
    out = []
    known = {h.name for h in before.hosts()} if before is not None else set()
    for slug in tenants:
        if slug not in after.slugs:
            continue
        for host in after.hosts(tenant=slug):
            if host.name not in known:
                continue  # a new host: its whole baseline is the plan, not a change
            layer = "network" if host.kind == "network_device" else "server"
            for control in after.standards.controls:
                cid = control.id
                if control.layer not in (layer, "platform"):
                    continue
                now = after.effective(cid, host.name)
                was = (before.effective(cid, host.name)  # None: new to the catalog
                       if before is not None and before.standards.control(cid) else None)
                if was is not None and (was.value, was.source) == (now.value, now.source):
                    continue
                out.append(ValueChange(
                    slug, host.name, host.kind, cid,
                    control.shown(was.value) if was is not None else None,
                    control.shown(now.value), was.source if was is not None else "-",
                    now.source))
    return out


def expiring(after: Estate, tenants: Iterable[str]) -> list[ExceptionNote]:
    wanted = set(tenants)
    return [ExceptionNote(k.tenant, k.record.id, k.record.control, k.status.value,
                          k.record.expires.isoformat() if k.record.expires else None)
            for k in after.exceptions()
            if k.tenant in wanted and k.status is not ExceptionStatus.ACTIVE]


def compare(before_tenants: Sequence[Tenant], before_standards: Standards | None,
            after_tenants: Sequence[Tenant], after_standards: Standards,
            before_estate: Estate | None, after_estate: Estate | None,
            files: Sequence[str] = ()) -> ChangeSet:
    old = {t.slug: t for t in before_tenants}
    new = {t.slug: t for t in after_tenants}
    changes: list[Change] = []
    for slug in sorted(old.keys() | new.keys()):
        if old.get(slug) != new.get(slug):
            changes += compare_tenant(old.get(slug), new.get(slug), after_standards)
    std = standards_diff(before_standards, after_standards) if before_standards != \
        after_standards else ()
    if std:
        changes.append(Change("", "standards", "community.yaml", ("changed",),
                              tuple(f"{k} changed" for k in std), APPROVAL["standards"]))
    touched = {c.tenant for c in changes if c.tenant and c.tenant in new}
    if std:  # a change of the standards can reach every tenant: the values tell which
        touched |= set(new)
    values: list[ValueChange] = []
    notes: list[ExceptionNote] = []
    if after_estate is not None:
        values = effective_changes(before_estate, after_estate, sorted(touched))
        notes = expiring(after_estate, sorted({c.tenant for c in changes if c.tenant}
                                              | {v.tenant for v in values}))
    return ChangeSet(tuple(changes), tuple(values), tuple(notes), std, tuple(files))


__all__ = ["APPROVAL", "Change", "ChangeSet", "ExceptionNote", "ValueChange", "compare",
           "compare_tenant", "effective_changes", "exception_actions"]
