"""`tenant new CODE`: a valid starting file for one municipality."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from ipaddress import IPv4Network
from pathlib import Path

from faellesdrift.community import TENANTS_DIR
from faellesdrift.errors import ConfigError
from faellesdrift.model import Standards
from faellesdrift.municipalities import lookup

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u"})


def slug_for(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().translate(_FOLD)).strip("-")


def render_tenant(code: object, population: int, standards: Standards, today: date) -> tuple[str, str]:
    """Return (slug, YAML text) of a minimal valid tenant definition."""
    m = lookup(code)
    if m is None:
        raise ConfigError(f"{code!r} is not one of the 98 municipality codes (e.g. 751 or \"0751\")")
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


def write_tenant(root: Path, code: object, population: int, standards: Standards,
                 today: date) -> Path:
    slug, text = render_tenant(code, population, standards, today)
    path = root / TENANTS_DIR / f"{slug}.yaml"
    if path.exists() or path.is_symlink():
        raise ConfigError(f"{path} already exists; edit it instead")
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
    return path
