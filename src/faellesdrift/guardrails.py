"""Guardrails: community-wide rules over all tenants together.

Each rule is data (a stable id, a severity, a description) plus a check
function ``check(community, today) -> findings``. Never reuse or rename an id:
CI logs, waivers and reports refer to them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from ipaddress import IPv4Network
from itertools import pairwise

from faellesdrift.community import Community, TenantSource
from faellesdrift.findings import Finding, Severity
from faellesdrift.loader import field_path
from faellesdrift.municipalities import municipalities

EXPIRY_WARNING_DAYS = 30

Check = Callable[[Community, date], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str
    fix: str

    def at(self, src: TenantSource | None, message: str, *loc: str | int,
           file: str = "") -> Finding:
        return Finding(
            rule=self.id, severity=self.severity, message=message, fix=self.fix,
            file=src.file if src else file,
            line=src.line(*loc) if src else None,
            field=field_path(loc),
        )


def _r(id: str, severity: Severity, description: str, fix: str) -> Rule:
    return Rule(id, severity, description, fix)


RULES = {r.id: r for r in [
    _r("tenant.code-unknown", "error", "the code is not one of the 98 municipality codes",
       "use the code from the official kommunekodeliste, e.g. \"0751\" for Aarhus"),
    _r("tenant.name-mismatch", "error", "the name does not match the municipality code",
       "use the official name for the code"),
    _r("tenant.file-name", "error", "the file name differs from the slug",
       "name the file tenants/<slug>.yaml"),
    _r("community.duplicate-code", "error", "two tenants share a municipality code",
       "keep one file per municipality"),
    _r("community.duplicate-slug", "error", "two tenants share a slug", "pick a unique slug"),
    _r("community.duplicate-hostname", "error", "a host name is used twice in the community",
       "host names must be unique across all tenants; prefix them with the tenant's short code"),
    _r("community.duplicate-address", "error", "an address is used twice in the community",
       "give each host its own address inside its tenant's pool"),
    _r("standards.pool-overlap", "error", "two tenant pools overlap", "make the pools disjoint"),
    _r("net.no-pool", "error", "the standards assign no address pool to this tenant",
       "add the tenant's slug under `pools:` in community.yaml"),
    _r("net.prefix-outside-pool", "error", "a network lies outside the tenant's pool",
       "pick a prefix inside the pool community.yaml assigns to the tenant"),
    _r("net.prefix-overlap", "error", "two networks overlap", "make the prefixes disjoint"),
    _r("net.address-outside-prefix", "error", "a host address is in none of the tenant's networks",
       "declare the network under `networks:` or fix the address"),
    _r("net.vlan-out-of-range", "error", "a VLAN id lies outside the community's range",
       "use a VLAN id inside vlan_range in community.yaml"),
    _r("net.vlan-duplicate", "error", "a VLAN id is used twice in one tenant",
       "give each network its own VLAN id"),
    _r("quota.compute-exceeded", "error", "the tenant's servers exceed its compute quota",
       "reduce the allocation or ask the board for a larger quota in community.yaml"),
    _r("exception.duplicate-id", "error", "an exception id is used twice", "use unique ids"),
    _r("exception.unknown-control", "error", "the exception names no known control",
       "use a control id from the catalog in community.yaml"),
    _r("exception.mandatory-control", "error", "a mandatory control cannot be excepted",
       "remove the exception; mandatory controls (e.g. SIEM logging) apply to every host"),
    _r("exception.unknown-host", "error", "the exception names a host the tenant does not have",
       "list only servers or network devices defined in this file"),
    _r("exception.foreign-host", "error", "the exception names another tenant's host",
       "an exception may only cover the tenant's own hosts"),
    _r("exception.approval-missing", "error", "who approved the exception, and when, is missing",
       "add approved_by and approved_on (the decision that mandates it)"),
    _r("exception.compensating-missing", "error", "a mitigated exception names no compensating "
       "control", "add compensating_control or use category: waiver"),
    _r("exception.expiry-missing", "error", "the exception has no expiry date",
       "add expires: within the control's max_exception_days"),
    _r("exception.expiry-too-long", "error", "the exception runs longer than the control allows",
       "shorten expires to within max_exception_days after approved_on"),
    _r("exception.expired", "error", "the exception has expired and no longer applies",
       "renew it with a new approval, or remove it and let the baseline apply"),
    _r("exception.expiring", "warning", "the exception expires within 30 days",
       "renew it (new approval) or plan the return to the baseline"),
    _r("exception.overlap", "error", "two exceptions cover the same control on the same host",
       "merge them into one exception"),
    _r("exception.unknown-contract", "error", "the exception links a contract that does not exist",
       "use an id from this tenant's contracts"),
    _r("exception.value-type", "error", "an exception's value does not fit its control's type",
       "write the value in the form the control takes (see its value_type in community.yaml)"),
    _r("exception.approved-in-future", "error", "an exception's approval date lies in the "
       "future (it would never expire)", "use the date the approval was given"),
    _r("contract.duplicate-id", "error", "a contract id is used twice", "use unique ids"),
    _r("contract.foreign-asset", "error", "a contract covers an asset the tenant does not have",
       "list only this tenant's own servers and network devices"),
    _r("scope.planned-date", "error", "a planned service class has no handover date",
       "add `from: YYYY-MM-DD` to the planned scope"),
    _r("scope.local-no-control", "warning", "a service class is kept local with no security "
       "control recorded", "record the local security_control (who covers it) in the scope"),
]}


class _Owners:
    """Which tenant has a host (or, with ``other_assets``, any asset) of a given name.

    A tenant's own names answer most questions; the community-wide map is built only
    when a name is not the asking tenant's own.
    """

    def __init__(self, community: Community, other_assets: bool = False) -> None:
        self._community = community
        self._other_assets = other_assets
        self._all: dict[str, str] | None = None

    def names(self, src: TenantSource) -> set[str]:
        names = src.tenant.hostnames
        if self._other_assets:
            names |= {a.name for a in src.tenant.other_assets}
        return names

    def of(self, src: TenantSource, own: set[str], name: str) -> str | None:
        if name in own:
            return src.tenant.slug
        if self._all is None:
            self._all = {n: s.tenant.slug for s in self._community.sources
                         for n in self.names(s)}
        return self._all.get(name)


def check_identity(c: Community, today: date) -> Iterator[Finding]:
    known = municipalities()
    by_code: dict[str, TenantSource] = {}
    by_slug: dict[str, TenantSource] = {}
    for src in c.sources:
        t = src.tenant
        m = known.get(t.code)
        if m is None:
            yield RULES["tenant.code-unknown"].at(src, f"{t.code} is not a municipality code",
                                                  "code")
        elif m.name.casefold() != t.name.casefold():
            yield RULES["tenant.name-mismatch"].at(
                src, f"code {t.code} is {m.name!r}, not {t.name!r}", "name")
        if src.doc.path.stem != t.slug:
            yield RULES["tenant.file-name"].at(
                src, f"slug {t.slug!r} is in file {src.doc.path.name!r}", "slug")
        for key, seen, rule in ((t.code, by_code, "community.duplicate-code"),
                                (t.slug, by_slug, "community.duplicate-slug")):
            if key in seen:
                yield RULES[rule].at(src, f"{key!r} is also used by {seen[key].file}",
                                     "code" if "code" in rule else "slug")
            seen[key] = src


def _hosts(src: TenantSource) -> Iterator[tuple[str, int, str, object]]:
    for i, s in enumerate(src.tenant.servers):
        yield "servers", i, s.name, s.address
    for i, d in enumerate(src.tenant.network_devices):
        yield "network_devices", i, d.name, d.address


def _all_unique(values: list) -> bool:
    return len(set(values)) == len(values)


def check_unique_hosts(c: Community, today: date) -> Iterator[Finding]:
    # One set over every name and address (C speed) answers the usual case; only a
    # community with a duplicate is walked asset by asset to say where.
    assets = [a for src in c.sources for kinds in (src.tenant.servers, src.tenant.network_devices,
                                                   src.tenant.other_assets) for a in kinds]
    if _all_unique([a.name for a in assets]) and _all_unique(
            [int(a.address) for a in assets if a.address is not None]):
        return
    names: dict[str, str] = {}
    addresses: dict[int, str] = {}  # keyed by int: hashing 100,000 IPv4Address objects is slow
    for src in c.sources:
        slug = src.tenant.slug
        for kind, kinds in (("servers", src.tenant.servers),
                            ("network_devices", src.tenant.network_devices),
                            ("other_assets", src.tenant.other_assets)):
            for i, asset in enumerate(kinds):
                name, address = asset.name, asset.address
                if name in names:
                    yield RULES["community.duplicate-hostname"].at(
                        src, f"{name!r} is also defined by {names[name]}", kind, i, "name")
                else:
                    names[name] = slug
                if address is None:
                    continue
                key = int(address)
                if key in addresses:
                    yield RULES["community.duplicate-address"].at(
                        src, f"{address} of {name!r} is also used by {addresses[key]}",
                        kind, i, "address")
                else:
                    addresses[key] = f"{slug}/{name}"


def check_pools(c: Community, today: date) -> Iterator[Finding]:
    pools = sorted(c.standards.pools.items(), key=lambda kv: kv[1])
    for (a, pa), (b, pb) in pairwise(pools):
        if pa.overlaps(pb):
            yield RULES["standards.pool-overlap"].at(
                None, f"pools of {a!r} ({pa}) and {b!r} ({pb}) overlap", file=c.standards_doc.display)


def check_networks(c: Community, today: date) -> Iterator[Finding]:
    vr = c.standards.vlan_range
    every: list[tuple[IPv4Network, str, TenantSource, int]] = []
    for src in c.sources:
        t = src.tenant
        pool = c.standards.pools.get(t.slug)
        if pool is None:
            yield RULES["net.no-pool"].at(src, f"no pool for {t.slug!r} in community.yaml", "slug")
        vlans: dict[int, str] = {}
        for i, n in enumerate(t.networks):
            every.append((n.prefix, f"{t.slug}/{n.name}", src, i))
            if pool is not None and not n.prefix.subnet_of(pool):
                yield RULES["net.prefix-outside-pool"].at(
                    src, f"{n.prefix} is outside the pool {pool}", "networks", i, "prefix")
            if not vr.min <= n.vlan <= vr.max:
                yield RULES["net.vlan-out-of-range"].at(
                    src, f"VLAN {n.vlan} is outside {vr.min}-{vr.max}", "networks", i, "vlan")
            if n.vlan in vlans:
                yield RULES["net.vlan-duplicate"].at(
                    src, f"VLAN {n.vlan} is also used by network {vlans[n.vlan]!r}",
                    "networks", i, "vlan")
            vlans[n.vlan] = n.name
        yield from _addresses_in_prefixes(src)
    every.sort(key=lambda e: (e[0].network_address, -e[0].prefixlen))
    widest_end = None
    for prefix, name, src, i in every:
        if widest_end is not None and prefix.network_address <= widest_end[0]:
            yield RULES["net.prefix-overlap"].at(
                src, f"{prefix} ({name}) overlaps {widest_end[1]}", "networks", i, "prefix")
        if widest_end is None or prefix.broadcast_address > widest_end[0]:
            widest_end = (prefix.broadcast_address, f"{prefix} ({name})")


def _addresses_in_prefixes(src: TenantSource) -> Iterator[Finding]:
    ranges = sorted((int(n.prefix.network_address), int(n.prefix.broadcast_address))
                    for n in src.tenant.networks)
    if all(a[1] < b[0] for a, b in pairwise(ranges)):
        # disjoint networks: count the addresses inside them with two bisections each
        addresses = sorted([int(s.address) for s in src.tenant.servers]
                           + [int(d.address) for d in src.tenant.network_devices])
        inside = sum(bisect_right(addresses, hi) - bisect_left(addresses, lo) for lo, hi in ranges)
        if inside == len(addresses):
            return
    for kind, i, name, address in _hosts(src):
        a = int(address)  # type: ignore[call-overload]
        if not any(lo <= a <= hi for lo, hi in ranges):
            yield RULES["net.address-outside-prefix"].at(
                src, f"{address} of {name!r} is in none of the tenant's networks",
                kind, i, "address")


def check_quota(c: Community, today: date) -> Iterator[Finding]:
    for src in c.sources:
        quota = c.standards.quota_for(src.tenant.slug)
        for field, used, allowed in quota.over(src.tenant.servers):
            yield RULES["quota.compute-exceeded"].at(
                src, f"servers use {used} {field}, the quota is {allowed}", "servers")


def check_exceptions(c: Community, today: date) -> Iterator[Finding]:
    owners = _Owners(c)
    seen_ids: dict[str, str] = {}
    for src in c.sources:
        t = src.tenant
        own = t.hostnames if t.exceptions else set()
        contracts = {k.id for k in t.contracts}
        covered: dict[tuple[str, str], str] = {}
        for i, ex in enumerate(t.exceptions):
            at = ("exceptions", i)
            if ex.id in seen_ids:
                yield RULES["exception.duplicate-id"].at(
                    src, f"{ex.id} is also used in {seen_ids[ex.id]}", *at, "id")
            seen_ids[ex.id] = src.file
            control = c.standards.control(ex.control)
            if control is None:
                yield RULES["exception.unknown-control"].at(
                    src, f"{ex.id}: no control {ex.control!r} in the catalog", *at, "control")
            elif control.mandatory:
                yield RULES["exception.mandatory-control"].at(
                    src, f"{ex.id}: {ex.control} is mandatory", *at, "control")
            elif (problem := control.value_type.problem(ex.value)) is not None:
                if control.secret:
                    problem = "the value does not fit"  # never echo a secret
                yield RULES["exception.value-type"].at(
                    src, f"{ex.id}: {problem}; {ex.control} takes "
                    f"{control.value_type.describe()}", *at, "value")
            for j, host in enumerate(ex.hosts):
                owner = owners.of(src, own, host)
                if owner is None:
                    yield RULES["exception.unknown-host"].at(
                        src, f"{ex.id}: no host {host!r} in this tenant", *at, "hosts", j)
                elif owner != t.slug:
                    yield RULES["exception.foreign-host"].at(
                        src, f"{ex.id}: {host!r} belongs to tenant {owner!r}", *at, "hosts", j)
                key = (host, ex.control)
                if key in covered:
                    yield RULES["exception.overlap"].at(
                        src, f"{ex.id} and {covered[key]} both cover {ex.control} on {host}",
                        *at, "hosts", j)
                covered[key] = ex.id
            if not ex.approved_by or not ex.approved_on:
                missing = "approved_by" if not ex.approved_by else "approved_on"
                yield RULES["exception.approval-missing"].at(
                    src, f"{ex.id}: {missing} is missing", *at, missing)
            if ex.category == "mitigated" and not ex.compensating_control:
                yield RULES["exception.compensating-missing"].at(
                    src, f"{ex.id}: mitigated without compensating_control", *at, "category")
            if ex.contract and ex.contract not in contracts:
                yield RULES["exception.unknown-contract"].at(
                    src, f"{ex.id}: no contract {ex.contract!r}", *at, "contract")
            yield from _expiry(src, i, control.max_exception_days if control else None, today)


def _expiry(src: TenantSource, i: int, max_days: int | None, today: date) -> Iterator[Finding]:
    ex = src.tenant.exceptions[i]
    at = ("exceptions", i, "expires")
    if ex.expires is None:
        yield RULES["exception.expiry-missing"].at(src, f"{ex.id}: no expires date", *at)
        return
    if ex.approved_on is not None and ex.approved_on > today:
        yield RULES["exception.approved-in-future"].at(
            src, f"{ex.id}: approved_on {ex.approved_on} lies after today ({today})", "exceptions",
            i, "approved_on")
    start = ex.approved_on or today
    if max_days is not None and (ex.expires - start).days > max_days:
        yield RULES["exception.expiry-too-long"].at(
            src, f"{ex.id}: {(ex.expires - start).days} days from approval, the control allows "
            f"{max_days}", *at)
    if ex.expires < today:
        yield RULES["exception.expired"].at(
            src, f"{ex.id} ({ex.control}) expired on {ex.expires}", *at)
    elif (ex.expires - today).days <= EXPIRY_WARNING_DAYS:
        yield RULES["exception.expiring"].at(
            src, f"{ex.id} ({ex.control}) expires on {ex.expires}, in "
            f"{(ex.expires - today).days} days", *at)


def check_contracts(c: Community, today: date) -> Iterator[Finding]:
    owners = _Owners(c, other_assets=True)  # a contract may also cover kit outside the baseline
    for src in c.sources:
        ids: set[str] = set()
        own = owners.names(src) if src.tenant.contracts else set()
        for i, k in enumerate(src.tenant.contracts):
            if k.id in ids:
                yield RULES["contract.duplicate-id"].at(src, f"{k.id} is used twice",
                                                        "contracts", i, "id")
            ids.add(k.id)
            for j, asset in enumerate(k.covers):
                owner = owners.of(src, own, asset)
                if owner != src.tenant.slug:
                    whose = f"belongs to tenant {owner!r}" if owner else "is not defined"
                    yield RULES["contract.foreign-asset"].at(
                        src, f"{k.id}: {asset!r} {whose}", "contracts", i, "covers", j)


def check_scope(c: Community, today: date) -> Iterator[Finding]:
    for src in c.sources:
        for name, entry in src.tenant.scope.items():
            if entry.mode == "planned" and entry.from_ is None:
                yield RULES["scope.planned-date"].at(
                    src, f"scope.{name} is planned without a date", "scope", name)
            if entry.mode == "local" and not entry.security_control:
                yield RULES["scope.local-no-control"].at(
                    src, f"scope.{name} is local with no security_control", "scope", name)


CHECKS: tuple[Check, ...] = (
    check_identity, check_unique_hosts, check_pools, check_networks, check_quota,
    check_exceptions, check_contracts, check_scope,
)


def run_guardrails(community: Community, today: date) -> list[Finding]:
    return [f for check in CHECKS for f in check(community, today)]
