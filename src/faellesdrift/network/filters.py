"""Which devices a run touches: --tenant, --site, --role, --platform.

Each option may be given more than once (OR within an option, AND across
options). A value that matches nothing is an error that lists what exists,
so a typo never turns into a silent no-op run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from faellesdrift.estate import Estate, Host
from faellesdrift.model import NetworkDevice
from faellesdrift.network.errors import NetworkError

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


def slug(text: str) -> str:
    """A name-safe form of free text: 'Rådhuset' → 'raadhuset' (inventory group names)."""
    text = unicodedata.normalize("NFKD", text.translate(_DANISH)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "_", text.decode().lower()).strip("_") or "unknown"


@dataclass(frozen=True)
class Filters:
    tenants: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()

    @classmethod
    def of(cls, tenant=None, site=None, role=None, platform=None, host=None) -> Filters:
        def t(v) -> tuple[str, ...]:
            if v is None:
                return ()
            return (v,) if isinstance(v, str) else tuple(v)
        return cls(t(tenant), t(site), t(role), t(platform), t(host))

    def describe(self) -> str:
        parts = [f"{k}={','.join(v)}" for k, v in (
            ("tenant", self.tenants), ("site", self.sites), ("role", self.roles),
            ("platform", self.platforms), ("host", self.hosts)) if v]
        return " ".join(parts) or "all devices"

    def select(self, estate: Estate) -> tuple[Host, ...]:
        devices = estate.hosts(kind="network_device")
        self._check_known(devices, estate)
        chosen = [h for h in devices if self._match(h)]
        return tuple(sorted(chosen, key=lambda h: (h.tenant, h.name)))

    def _match(self, h: Host) -> bool:
        d: NetworkDevice = h.spec  # type: ignore[assignment]
        return ((not self.tenants or h.tenant in self.tenants)
                and (not self.sites or d.site in self.sites or slug(d.site) in self.sites)
                and (not self.roles or d.role in self.roles)
                and (not self.platforms or d.platform in self.platforms)
                and (not self.hosts or h.name in self.hosts))

    def _check_known(self, devices: tuple[Host, ...], estate: Estate) -> None:
        known = {
            "tenant": set(estate.slugs),
            "site": {h.spec.site for h in devices} | {slug(h.spec.site) for h in devices},
            "role": {h.spec.role for h in devices},
            "platform": {h.spec.platform for h in devices},
            "host": {h.name for h in devices},
        }
        for option, values in (("tenant", self.tenants), ("site", self.sites),
                               ("role", self.roles), ("platform", self.platforms),
                               ("host", self.hosts)):
            for v in values:
                if v not in known[option]:
                    raise NetworkError(
                        f"--{option} {v!r} matches no network device; "
                        f"known: {', '.join(sorted(known[option]))}")
