"""`tenant new CODE`: a valid starting file for one municipality."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, timedelta
from ipaddress import IPv4Network
from pathlib import Path

from faellesdrift.community import STANDARDS_FILE, TENANTS_DIR
from faellesdrift.errors import ConfigError, UsageError
from faellesdrift.model import Standards
from faellesdrift.municipalities import lookup

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u"})


def slug_for(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().translate(_FOLD)).strip("-")


#: Where new tenant pools are taken from, one /16 each, as the sample's pools are.
POOL_SPACE = IPv4Network("10.0.0.0/8")
POOL_PREFIXLEN = 16


def allocate_pool(standards: Standards, prefer: Iterable[IPv4Network] = ()) -> IPv4Network:
    """A free /16 for a new tenant: the first of ``prefer`` that overlaps no pool and not the
    shared services, else the first free one in 10.0.0.0/8."""
    taken = [*standards.pools.values(), standards.shared_services.prefix]
    for candidate in [*prefer, *POOL_SPACE.subnets(new_prefix=POOL_PREFIXLEN)]:
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    raise ConfigError(f"{STANDARDS_FILE}: no free /{POOL_PREFIXLEN} left in {POOL_SPACE} for a "
                      "new tenant pool; add the pool under `pools:` by hand")


def standards_text_with_pool(text: str, slug: str, pool: IPv4Network) -> str:
    """community.yaml with ``slug: pool`` added as the last entry of ``pools:``.

    One line is inserted after the last pool; every other byte (comments, order,
    indentation) stays as it was.
    """
    import yaml

    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    pools = next((v for k, v in getattr(root, "value", []) if k.value == "pools"), None)
    if not isinstance(pools, yaml.MappingNode) or pools.flow_style or not pools.value:
        raise ConfigError(f"{STANDARDS_FILE}: `pools:` is not a block mapping with one "
                          "`slug: prefix` line per tenant; add the pool for "
                          f"{slug!r} ({pool}) by hand")
    last_key, last_value = pools.value[-1]
    indent = " " * last_key.start_mark.column
    lines = text.splitlines(keepends=True)
    at = last_value.end_mark.line + (1 if last_value.end_mark.column else 0)
    if at > len(lines):
        lines[-1] = lines[-1] if lines[-1].endswith("\n") else lines[-1] + "\n"
    lines.insert(at, f"{indent}{slug}: {pool}  # allocated by `faellesdrift tenant`\n")
    return "".join(lines)


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it)."""
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link; make it a plain file")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def render_tenant(code: object, population: int, standards: Standards, today: date) -> tuple[str, str]:
    """Return (slug, YAML text) of a minimal valid tenant definition."""
    m = lookup(code)
    if m is None:
        raise UsageError(f"{code!r} is not one of the 98 municipality codes (e.g. 751 or \"0751\")")
    if population <= 0:
        raise ConfigError("--population must be a positive number of citizens")
    slug = slug_for(m.name)
    pool = standards.pools.get(slug)
    if pool is not None:
        mgmt = next(IPv4Network(pool).subnets(new_prefix=24))
        networks = f"networks:\n  - {{name: mgmt, vlan: {standards.vlan_range.min}, prefix: {mgmt}}}\n"
    else:
        networks = (f"# community.yaml has no pool for {slug!r} yet: ask the operator to add one,\n"
                    "# then declare your networks here.\nnetworks: []\n")
    target = today + timedelta(days=90)
    text = f"""# yaml-language-server: $schema=../schemas/tenant.schema.json
# {m.name} Kommune ({m.region}). Fill in the contacts, your servers and network devices,
# then run `faellesdrift validate`. Secrets never go in this file.
code: "{m.code}"
slug: {slug}
name: {m.name}
population: {population}
contacts:
  it_lead: {{name: IT lead of {m.name}, email: it@{slug}.example.dk}}
  security: {{name: Security contact of {m.name}, email: security@{slug}.example.dk}}
scope:  # shared = run by the community, local = kept by the municipality, planned = handed over later
  servers: shared
  network: shared
  endpoints: {{mode: planned, from: 2030-01-01, security_control: Describe who protects endpoints until then}}
  identities: {{mode: planned, from: 2030-01-01, security_control: Describe who runs identities until then}}
  monitoring: {{mode: planned, from: 2030-01-01, security_control: Describe the local monitoring until then}}
  backup: shared
{networks}servers: []
network_devices: []
endpoints: {{count: 0}}
identities: {{count: 0}}
exceptions: []
contracts: []
onboarding: {{wave: 1, target: {target.isoformat()}}}
"""
    return slug, text


def with_pool(root: Path, standards: Standards, slug: str,
              prefer: Iterable[IPv4Network] = ()) -> tuple[Standards, str | None]:
    """The standards with a pool for ``slug`` (allocated when it has none) and, when one was
    allocated, the new text of community.yaml (None: the file stays as it is)."""
    if slug in standards.pools:
        return standards, None
    pool = allocate_pool(standards, prefer)
    text = (root / STANDARDS_FILE).read_text(encoding="utf-8")
    new_text = standards_text_with_pool(text, slug, pool)
    return standards.model_copy(update={"pools": {**standards.pools, slug: pool}}), new_text


def write_tenant(root: Path, code: object, population: int, standards: Standards,
                 today: date) -> Path:
    """Write tenants/<slug>.yaml and, when the tenant has no pool yet, allocate one and record
    it in community.yaml in the same change (both files or neither)."""
    m = lookup(code)
    slug = slug_for(m.name) if m else ""
    path = root / TENANTS_DIR / f"{slug}.yaml"
    if m is not None and (path.exists() or path.is_symlink()):
        raise ConfigError(f"{path} already exists; edit it instead")
    standards_new_text = None
    if m is not None and population > 0:
        standards, standards_new_text = with_pool(root, standards, slug)
    slug, text = render_tenant(code, population, standards, today)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.resolve().is_relative_to(root.resolve()):
        raise ConfigError(f"{path.parent} leads outside the repository; make {TENANTS_DIR}/ a "
                          "plain directory")
    try:  # O_EXCL with O_NOFOLLOW: never follows a link planted at the last moment
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; edit it instead") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    if standards_new_text is not None:
        try:
            replace_file(root / STANDARDS_FILE, standards_new_text)
        except BaseException:
            path.unlink(missing_ok=True)  # neither file changes
            raise
    return path
