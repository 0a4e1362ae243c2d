"""The platform outputs: what the Pulumi stacks of one environment export, as one typed file.

One writer (the platform adapter, after every apply or destroy of a stack) and one
reader (``read``: metering, and whoever else needs what the platform made). The file
is ``<state>/pulumi/outputs-<environment>.json``; it holds one entry per Pulumi stack
of the environment (``<environment>.shared``, ``<environment>.<tenant>``, or the
whole-community stack of the single-stack layout), each with that stack's outputs::

    {"version": 1, "environment": "lab",
     "stacks": {"lab.odder": {"scope": "odder", "backend": "file://…",
                              "written_at": "2026-11-30T10:00:00+00:00",
                              "outputs": {"tenants": {"odder": {…}},
                                          "metering": [{"tenant", "meter", "subject",
                                                        "quantity"}]}}}}

Stacks write their entry under a lock, so stacks applied in parallel all land. A
missing or unreadable file is an error naming the file and the command that writes
it: a reader never gets a silent empty answer.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faellesdrift import clock
from faellesdrift.errors import FaellesdriftError
from faellesdrift.files import locked, write_json_atomic

VERSION = 1
WRITER = "faellesdrift apply"
_ENV = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


class PlatformOutputsError(FaellesdriftError):
    """The platform outputs file is missing, unreadable or of an unknown shape."""


class PlatformOutputsMissing(PlatformOutputsError):
    """No stack of the environment has been applied yet."""


@dataclass(frozen=True)
class StackOutputs:
    """One stack's entry: its scope (``shared``, a tenant slug, or ``all``) and outputs."""

    stack: str
    scope: str
    outputs: Mapping[str, Any]
    backend: str = ""
    written_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "backend": self.backend, "written_at": self.written_at,
                "outputs": dict(self.outputs)}


@dataclass(frozen=True)
class PlatformOutputs:
    """Every stack's outputs of one environment, and the views readers need."""

    environment: str
    path: Path
    stacks: Mapping[str, StackOutputs]

    @property
    def tenants(self) -> dict[str, dict[str, Any]]:
        """Tenant slug -> that tenant's outputs (from whichever stack holds the tenant)."""
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(self.stacks):
            tenants = self.stacks[name].outputs.get("tenants") or {}
            if isinstance(tenants, Mapping):
                out.update({str(k): dict(v) for k, v in tenants.items() if isinstance(v, Mapping)})
        return out

    @property
    def community(self) -> dict[str, Any]:
        for name in sorted(self.stacks):
            community = self.stacks[name].outputs.get("community")
            if isinstance(community, Mapping) and community:
                return dict(community)
        return {}

    def metering(self) -> list[tuple[str, Any]]:
        """(stack, the stack's ``metering`` output as exported: a list of samples, or
        whatever the stack wrote, for the reader to check) for every stack that exports one."""
        return [(name, self.stacks[name].outputs["metering"]) for name in sorted(self.stacks)
                if "metering" in self.stacks[name].outputs]


def check_environment(environment: str) -> str:
    if not isinstance(environment, str) or not _ENV.match(environment):
        raise PlatformOutputsError(f"platform environment {environment!r}: use letters, "
                                   "digits, '-' or '_' (it names Pulumi.<environment>.yaml)")
    return environment


def path_for(state_dir: Path, environment: str) -> Path:
    return state_dir / "pulumi" / f"outputs-{check_environment(environment)}.json"


def environments(state_dir: Path) -> list[str]:
    """Environments with an outputs file (e.g. ['lab'])."""
    found = (state_dir / "pulumi").glob("outputs-*.json")
    return sorted(p.stem.removeprefix("outputs-") for p in found
                  if _ENV.match(p.stem.removeprefix("outputs-")))


def _parse(path: Path, text: str, environment: str) -> PlatformOutputs:
    def bad(what: str) -> PlatformOutputsError:
        return PlatformOutputsError(f"{path}: {what}; delete it and run `{WRITER}` again")

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or "version" not in data:
        raise bad("not a platform outputs file (no version: written by an older faellesdrift "
                  "or by hand)")
    if data["version"] != VERSION:
        raise bad(f"version {data['version']!r}, this faellesdrift reads version {VERSION}")
    if data.get("environment") != environment:
        raise bad(f"environment {data.get('environment')!r}, expected {environment!r}")
    stacks = data.get("stacks")
    if not isinstance(stacks, dict):
        raise bad("'stacks' must map stack names to entries")
    out = {}
    for name, entry in stacks.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("outputs"), dict) \
                or not isinstance(entry.get("scope"), str):
            raise bad(f"stacks.{name} must be an object with scope and outputs")
        out[name] = StackOutputs(name, entry["scope"], entry["outputs"],
                                 str(entry.get("backend") or ""),
                                 str(entry.get("written_at") or ""))
    return PlatformOutputs(environment, path, out)


def _load(path: Path, environment: str) -> PlatformOutputs:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlatformOutputsMissing(
            f"{path}: no platform outputs for environment {environment!r} yet; run "
            f"`{WRITER} --stack {environment}` first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlatformOutputsError(f"{path}: cannot be read ({exc.__class__.__name__}: "
                                   f"{exc}); fix its permissions or delete it and run "
                                   f"`{WRITER}` again") from None
    return _parse(path, text, environment)


def read(state_dir: Path, environment: str) -> PlatformOutputs:
    """The environment's outputs; PlatformOutputsMissing / PlatformOutputsError otherwise."""
    return _load(path_for(state_dir, environment), environment)


def read_all(state_dir: Path) -> list[PlatformOutputs]:
    """Every environment's outputs; PlatformOutputsMissing when there is none."""
    names = environments(state_dir)
    if not names:
        raise PlatformOutputsMissing(
            f"{state_dir / 'pulumi'}: no platform outputs (outputs-<environment>.json) "
            f"yet; run `{WRITER}` first")
    return [read(state_dir, name) for name in names]


def write(state_dir: Path, environment: str, entry: StackOutputs) -> Path:
    """Replace one stack's entry (atomically, under the file's lock); keep the others.

    An entry with no outputs (a destroyed stack) is removed from the file.
    """
    path = path_for(state_dir, environment)
    with locked(path):
        try:
            current = dict(_load(path, environment).stacks)
        except PlatformOutputsMissing:
            current = {}
        except PlatformOutputsError:
            # keep the unreadable file for a person to look at; this run starts a new one
            os.replace(path, path.with_name(f"{path.name}.corrupt-"
                                            f"{clock.stamp().replace(':', '')}"))
            current = {}
        if entry.outputs:
            current[entry.stack] = StackOutputs(entry.stack, entry.scope, entry.outputs,
                                                entry.backend, entry.written_at or clock.stamp())
        else:
            current.pop(entry.stack, None)
        data = {"version": VERSION, "environment": environment,
                "stacks": {n: current[n].to_dict() for n in sorted(current)}}
        write_json_atomic(path, data)
    return path
