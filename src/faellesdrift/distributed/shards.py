"""Shards and limits: which devices go together, and how many may be worked on at once.

A shard is one tenant's selected devices, or one site of a tenant when a
per-site cap is set (the cap is then the shard's own number of parallel
sessions: a WAN link or a small branch stack never sees more). A per-platform
cap bounds the sessions to one platform across every worker: a shard counts
``min(its parallel sessions, its devices of that platform)`` against each of its
platforms, and waits until that fits under the cap.

Caps come from the environment of the command that starts the run:
``FAELLESDRIFT_MAX_PER_SITE=4`` and ``FAELLESDRIFT_MAX_PER_PLATFORM=juniper_junos=4,cisco_ios=10``
(or one number for every platform).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from faellesdrift.errors import ConfigError
from faellesdrift.estate import Host

SITE_ENV = "FAELLESDRIFT_MAX_PER_SITE"
PLATFORM_ENV = "FAELLESDRIFT_MAX_PER_PLATFORM"


def _positive(raw: str, what: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{what}: {raw!r} is not a positive whole number of sessions")
    return value


@dataclass(frozen=True)
class Caps:
    per_site: int | None = None
    per_platform: Mapping[str, int] = field(default_factory=dict)
    every_platform: int | None = None  # one cap for each platform not named

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Caps:
        env = os.environ if env is None else env
        site = env.get(SITE_ENV, "").strip()
        per_site = _positive(site, SITE_ENV) if site else None
        per_platform: dict[str, int] = {}
        every = None
        for part in filter(None, (p.strip() for p in env.get(PLATFORM_ENV, "").split(","))):
            name, sep, raw = part.partition("=")
            if sep:
                per_platform[name.strip()] = _positive(raw.strip(), f"{PLATFORM_ENV} {name}")
            else:
                every = _positive(name, PLATFORM_ENV)
        return cls(per_site, per_platform, every)

    def platform(self, name: str) -> int | None:
        return self.per_platform.get(name, self.every_platform)

    def describe(self) -> str:
        parts = [f"{self.per_site} per site"] if self.per_site else []
        parts += [f"{n} {p}" for p, n in sorted(self.per_platform.items())]
        if self.every_platform:
            parts.append(f"{self.every_platform} per platform")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Shard:
    name: str  # "odder", or "odder/raadhuset" when sharded by site
    tenant: str
    hosts: tuple[str, ...]
    platforms: Mapping[str, int]  # platform → devices of it in this shard
    workers: int  # devices worked on at once inside the shard

    def weight(self) -> dict[str, int]:
        """Sessions this shard may hold at once, per platform."""
        return {p: min(self.workers, n) for p, n in self.platforms.items()}


def plan(hosts: Sequence[Host], workers: int, caps: Caps) -> list[Shard]:
    """Shards in the order of the selection (tenant, then site), largest first within ties.

    Larger shards start first so that the last one to finish is a small one.
    """
    from faellesdrift.network.filters import slug

    groups: dict[tuple[str, str], list[Host]] = {}
    for h in hosts:
        key = (h.tenant, slug(h.spec.site) if caps.per_site else "")
        groups.setdefault(key, []).append(h)
    shards = []
    for (tenant, site), members in groups.items():
        platforms = Counter(h.spec.platform for h in members)
        limit = [workers, len(members)]
        if caps.per_site:
            limit.append(caps.per_site)
        limit += [c for p in platforms if (c := caps.platform(p))]
        shards.append(Shard(f"{tenant}/{site}" if site else tenant, tenant,
                            tuple(h.name for h in members), dict(platforms), min(limit)))
    return sorted(shards, key=lambda s: -len(s.hosts))


class Gate:
    """Admits shards while every platform's sessions in flight stay under its cap."""

    def __init__(self, caps: Caps) -> None:
        self.caps = caps
        self.in_flight: Counter[str] = Counter()
        self.running = 0

    def fits(self, shard: Shard) -> bool:
        if not self.running:
            return True  # a shard alone always fits: its workers are within every cap
        for p, w in shard.weight().items():
            cap = self.caps.platform(p)
            if cap is not None and self.in_flight[p] + w > cap:
                return False
        return True

    def start(self, shard: Shard) -> None:
        self.in_flight.update(shard.weight())
        self.running += 1

    def finish(self, shard: Shard) -> None:
        self.in_flight.subtract(shard.weight())
        self.running -= 1
