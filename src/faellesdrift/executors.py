"""Where a network or server run happens: in this process (``local``) or on workers.

``local`` is the default and needs nothing: the command calls its adapter in
this process. Other executors (``celery``: shards on Celery workers with a
Redis broker) are found by name in the ``faellesdrift.executors`` entry-point
group, the way commands.py finds plugin commands, so an adapter's CLI never
imports the package that distributes it. An executor takes a ``Request`` (plain
data a worker on another machine can receive) and returns the same result
object the adapter returns locally, so summaries, results files and exit codes
do not depend on where the run happened.

``waves`` is the canary: the first N devices on their own, the rest only when
none of them failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, TypeVar

from faellesdrift.errors import ConfigError

ENTRY_POINTS = "faellesdrift.executors"
LOCAL = "local"

R = TypeVar("R")


@dataclass(frozen=True)
class Request:
    """One run, as data: what to run, on which community, as of which day, on which devices."""

    operation: str  # "network.backup|compliance|remediate", "servers.plan|apply|verify"
    root: Path  # the community repository
    state_dir: Path
    today: date
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # tenants, sites, …
    options: dict[str, Any] = field(default_factory=dict)  # the adapter's settings, JSON-safe


class Executor(Protocol):
    def run(self, request: Request) -> Any:
        """Run every device the request selects; return the adapter's result object."""


@cache
def _registered() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINTS) if ep.name != LOCAL}


def names() -> list[str]:
    return [LOCAL, *sorted(_registered())]


def check_name(name: str) -> str:
    if name not in names():
        raise ConfigError(f"--executor {name!r} is not known; use one of: {', '.join(names())}")
    return name


def load(name: str) -> Executor:
    """A remote executor by name (configured from its environment, e.g. the broker URL)."""
    import importlib

    target = _registered().get(check_name(name))
    if target is None:
        raise ConfigError(f"--executor {LOCAL} runs in this process; it is not loaded by name")
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)()


def waves(names_in_order: Sequence[str], canary: int
          ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The canary wave (the first ``canary`` devices) and the rest; no canary: all, nothing."""
    if canary < 0:
        raise ConfigError(f"--canary {canary}: use a number of devices (0 for no canary)")
    if not canary or canary >= len(names_in_order):
        return tuple(names_in_order), ()
    return tuple(names_in_order[:canary]), tuple(names_in_order[canary:])


def in_waves(names_in_order: Sequence[str], canary: int,
             run: Callable[[tuple[str, ...] | None], R], failed: Callable[[R], bool],
             merge: Callable[[R, R], R]) -> tuple[R, tuple[str, ...]]:
    """Run the canary wave, then the rest unless a canary device failed.

    ``run(None)`` means every device (no canary asked for). Returns the result
    and the devices left untouched because the canary failed (empty otherwise).
    """
    first, rest = waves(names_in_order, canary)
    if not rest:
        return run(None), ()
    result = run(first)
    if failed(result):
        return result, rest
    return merge(result, run(rest)), ()
