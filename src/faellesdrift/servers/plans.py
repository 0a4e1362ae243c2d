"""A plan made moments before, reused by `servers apply` instead of a second check pass.

A plan is reusable when it checked exactly what the apply would change: the
same host vars (the estate's effective values on the same day), the same hosts
and ssh_config, the same playbooks — all folded into one fingerprint — and it
was made at most ``MAX_AGE`` ago with every host checked. The apply itself
always runs in full, so a host that drifted after the plan is still brought to
the baseline; only the preview is not made twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

from faellesdrift import clock
from faellesdrift.servers.access import Access
from faellesdrift.servers.hostvars import Selection, inventory
from faellesdrift.servers.results import RunResult
from faellesdrift.settings import Settings

VERSION = 1
MAX_AGE = timedelta(minutes=15)


def _directory(settings: Settings) -> Path:
    return settings.state_dir / "servers" / "plans"


def fingerprint(selection: Selection, access: Access, playbooks: Path) -> str:
    """One hash of everything a check-mode result depends on (besides the hosts' own state)."""
    h = hashlib.sha256()
    inv = inventory(selection, access.operator_keys, {"ansible_user": access.user})
    h.update(json.dumps(inv, sort_keys=True, default=str).encode())
    h.update(json.dumps(sorted(r.host for r in selection.refused)).encode())
    h.update(str(access.ssh_config).encode())
    if access.ssh_config.is_file():
        h.update(access.ssh_config.read_bytes())
    h.update(playbooks_digest(playbooks).encode())
    return h.hexdigest()


#: what the baseline runs: other playbooks (facts.yml) and docs never change a host's state
BASELINE_PARTS = ("site.yml", "ansible.cfg", "roles", "library")


def playbooks_digest(playbooks: Path) -> str:
    """One hash of the baseline's files (names and contents; caches left out)."""
    h = hashlib.sha256()
    parts = [playbooks / part for part in BASELINE_PARTS]
    files = [p for p in parts if p.is_file()] + [
        p for part in parts if part.is_dir() for p in part.rglob("*") if p.is_file()]
    for path in sorted(p for p in files if "__pycache__" not in p.parts):
        h.update(str(path.relative_to(playbooks)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def desired_state(host_vars: dict, playbooks: str) -> str:
    """The desired state of one host in one hash: its vars and the playbooks. The baseline's
    probe compares it with what the last apply recorded on the host (fd_baseline_hash)."""
    h = hashlib.sha256(playbooks.encode())
    h.update(json.dumps(host_vars, sort_keys=True, default=str).encode())
    return h.hexdigest()


def save(settings: Settings, key: str, result: RunResult) -> Path | None:
    """Keep a plan that checked every host; plans too old to be reused are dropped."""
    if result.mode != "plan" or not result.ok:
        return None
    directory = _directory(settings)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.json"):
        if old.stem != key and _made_at(old) is None:
            old.unlink(missing_ok=True)
    path = directory / f"{key}.json"
    payload = {"version": VERSION, "fingerprint": key, "made_at": clock.stamp(),
               "result": result.to_dict()}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def discard(settings: Settings) -> None:
    """Forget every saved plan: an apply has changed hosts, so no plan shows them any more."""
    for path in _directory(settings).glob("*.json"):
        path.unlink(missing_ok=True)


def _made_at(path: Path, max_age: timedelta = MAX_AGE) -> tuple[dict, str] | None:
    """The saved plan and when it was made, if it is young enough to be reused."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        made = datetime.fromisoformat(data["made_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("version") != VERSION or not timedelta(0) <= clock.now() - made <= max_age:
        return None
    return data, data["made_at"]


def recent(settings: Settings, key: str, *, max_age: timedelta = MAX_AGE) -> RunResult | None:
    """The plan with this fingerprint made within ``max_age``, or None."""
    found = _made_at(_directory(settings) / f"{key}.json", max_age)
    if found is None or found[0].get("fingerprint") != key:
        return None
    data, made_at = found
    try:
        result = RunResult.from_dict(data["result"])
    except (KeyError, TypeError, ValueError):
        return None
    result.reused_from = made_at
    return result
