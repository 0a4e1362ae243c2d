"""The import as one call: read, build, merge (ruamel round-trip), validate, then write."""

from __future__ import annotations

import difflib
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from io import StringIO
from ipaddress import IPv4Network
from pathlib import Path

from faellesdrift.community import STANDARDS_FILE, TENANTS_DIR, load_community
from faellesdrift.errors import ConfigError, UsageError
from faellesdrift.findings import Finding
from faellesdrift.importing import sources
from faellesdrift.importing.build import Existing, ImportPlan, build, host_name
from faellesdrift.importing.gaps import ImportGap
from faellesdrift.importing.mapping import Mapping, load_mapping
from faellesdrift.importing.records import NetworkHint, Record
from faellesdrift.model import NAME, plain
from faellesdrift.municipalities import lookup, municipalities
from faellesdrift.scaffold import render_tenant, replace_file, slug_for, with_pool


@dataclass
class ImportResult:
    slug: str
    file: str
    written: bool
    pool_allocated: str | None
    counts: dict[str, int]
    gaps: list[ImportGap]
    findings: list[Finding] = field(default_factory=list)
    diff: str = ""

    @property
    def skipped(self) -> int:
        return sum(g.action == "skipped" for g in self.gaps)

    def to_dict(self) -> dict:
        return {"tenant": self.slug, "file": self.file, "written": self.written,
                "pool_allocated": self.pool_allocated, "counts": self.counts,
                "gaps": [g.to_dict() for g in self.gaps],
                "findings": [f.to_dict() for f in self.findings], "diff": self.diff}


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, key order and flow style are kept
    yaml.width = 4096
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _flow(entry: dict):
    from ruamel.yaml.comments import CommentedMap

    m = CommentedMap(entry)
    m.fa.set_flow_style()
    return m


def municipality(code: str):
    """The municipality of a code (751, "0751") or of an existing tenant's slug."""
    m = lookup(code)
    if m is None and NAME.match(code):
        m = next((x for x in municipalities().values() if slug_for(x.name) == code), None)
    if m is None:
        raise UsageError(f"{code!r} is not one of the 98 municipality codes (e.g. 751 or "
                          "\"0751\") nor a municipality's slug (e.g. odder)")
    return m


def run_import(root: Path, code: str, source: Path, *, mapping_file: Path | None = None,
               population: int | None = None, today: date, dry_run: bool = False
               ) -> ImportResult:
    m = municipality(code)
    kind = sources.kind_of_file(source)
    mapping = load_mapping(mapping_file)
    hints: list = []
    if kind == "netbox":
        records, hints, gaps = sources.read_netbox(source, m.code, m.name, slug_for(m.name))
    elif kind == "xlsx":
        records, gaps = sources.read_xlsx(source, mapping)
    else:
        records, gaps = sources.read_csv(source, mapping)
    return import_records(root, m.code, records, gaps, mapping=mapping, hints=hints,
                          population=population, today=today, dry_run=dry_run)


def import_records(root: Path, code: str, records: list[Record], gaps: list[ImportGap], *,
                   mapping: Mapping, hints: list[NetworkHint] = (), population: int | None,
                   today: date, dry_run: bool) -> ImportResult:
    """Records from any source (a sheet, an export, discovery) into the tenant file: build,
    merge keeping comments, validate the community as it would be, then write."""
    m = municipality(code)
    community, findings = load_community(root)
    if community is None:
        raise ConfigError(f"{STANDARDS_FILE}: {findings[0].one_line()}")
    slug = slug_for(m.name)
    path = root / TENANTS_DIR / f"{slug}.yaml"
    own = next((s for s in community.sources if s.tenant.slug == slug), None)
    if own is None and path.exists():
        raise ConfigError(f"{path.relative_to(root)} does not validate; run `faellesdrift "
                          "validate`, fix it, then import again")
    existing = Existing()
    for s in community.sources:
        for h in (*s.tenant.servers, *s.tenant.network_devices, *s.tenant.other_assets):
            if s.tenant.slug == slug:
                existing.names[h.name] = plain(h)
                if h.address is not None:
                    existing.addresses[str(h.address)] = h.name
            else:
                existing.foreign_names[h.name] = s.tenant.slug
                if h.address is not None:
                    existing.foreign_addresses[str(h.address)] = \
                        f"{h.name} of tenant {s.tenant.slug}"
    standards, standards_text = with_pool(root, community.standards, slug,
                                          _preferred(records))
    pool = IPv4Network(standards.pools[slug])
    if own is not None:
        existing.networks = [n.prefix for n in own.tenant.networks]
        existing.vlans = {n.vlan for n in own.tenant.networks}
        text = path.read_text(encoding="utf-8")
    else:
        if population is None:
            raise ValueError("--population is needed for a new tenant file")
        _, text = render_tenant(m.code, population, standards, today)
        scaffold = _yaml().load(text)
        existing.networks = [IPv4Network(n["prefix"]) for n in scaffold.get("networks") or []]
        existing.vlans = {int(n["vlan"]) for n in scaffold.get("networks") or []}
    vr = standards.vlan_range
    plan = build(records, mapping, existing, pool, list(hints), (vr.min, vr.max))
    new_text = _merge(text, plan)
    result = ImportResult(slug, f"{TENANTS_DIR}/{slug}.yaml", False,
                          str(pool) if standards_text else None, _counts(plan, records),
                          gaps + plan.gaps)
    result.diff = "".join(difflib.unified_diff(
        text.splitlines(keepends=True) if own else [], new_text.splitlines(keepends=True),
        f"a/{result.file}", f"b/{result.file}"))
    result.findings = _check(root, slug, new_text, standards_text, today)
    if dry_run or any(f.severity == "error" for f in result.findings):
        return result
    replace_file(path, new_text) if path.exists() else _create(path, new_text)
    if standards_text is not None:
        try:
            replace_file(root / STANDARDS_FILE, standards_text)
        except BaseException:
            if own is None:
                path.unlink(missing_ok=True)
            else:
                replace_file(path, text)
            raise
    result.written = True
    return result


def _create(path: Path, text: str) -> None:
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _preferred(records) -> list[IPv4Network]:
    """The /16s most of the source's addresses are in, most used first."""
    from faellesdrift.importing.build import _address

    counts = Counter(IPv4Network(f"{a}/16", strict=False) for r in records
                     if (a := _address(r.get("address"))) is not None)
    return [n for n, _ in counts.most_common(3)]


def _counts(plan: ImportPlan, records: list) -> dict[str, int]:
    return {"records": len(records), "servers": len(plan.servers),
            "network_devices": len(plan.devices), "other_assets": len(plan.other_assets),
            "networks": len(plan.networks),
            "endpoints": plan.endpoints,
            "skipped": sum(g.action == "skipped" for g in plan.gaps)}


def _merge(text: str, plan: ImportPlan) -> str:
    yaml = _yaml()
    data = yaml.load(text)
    order = ("networks", "servers", "network_devices", "other_assets")
    for key, items in zip(order, (plan.networks, plan.servers, plan.devices,
                                  plan.other_assets), strict=True):
        if not items:
            continue
        seq = data.get(key)
        if seq is None or not hasattr(seq, "append"):
            from ruamel.yaml.comments import CommentedSeq

            seq = CommentedSeq()
            before = [k for k in order[: order.index(key)] if k in data]
            at = list(data).index(before[-1]) + 1 if before else len(data)
            data.insert(at, key, seq)  # next to its siblings, not at the end of the file
        if hasattr(seq, "fa") and seq.fa.flow_style():  # `servers: []` becomes a block list
            seq.fa.set_block_style()
        for item in items:
            seq.append(_flow(item))
    if plan.endpoints:
        data["endpoints"]["count"] = plan.endpoints
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _check(root: Path, slug: str, text: str, standards_text: str | None, today: date
           ) -> list[Finding]:
    """Validate the community as it would be, in a copy. Only what the import brings in
    counts: findings the community already had (an expired exception, another tenant's
    error) are left out, in any file, so they neither block nor clutter the gap list."""
    from faellesdrift.estate import validate

    def key(f: Finding) -> tuple[str, str, str]:
        return f.rule, f.file, f.message  # not the line: merged files move lines

    before = {key(f) for f in validate(root, today).findings}
    with tempfile.TemporaryDirectory(prefix="faellesdrift-import-") as tmp:
        copy = Path(tmp)
        (copy / TENANTS_DIR).mkdir()
        (copy / STANDARDS_FILE).write_text(
            standards_text if standards_text is not None
            else (root / STANDARDS_FILE).read_text(encoding="utf-8"), encoding="utf-8")
        for p in (root / TENANTS_DIR).glob("*.y*ml"):
            if p.is_file() and not p.is_symlink():
                shutil.copy(p, copy / TENANTS_DIR / p.name)
        (copy / TENANTS_DIR / f"{slug}.yaml").write_text(text, encoding="utf-8")
        after = validate(copy, today).findings
    return [f for f in after if key(f) not in before]


__all__ = ["ImportResult", "host_name", "import_records", "municipality", "run_import"]
