"""Backup: every selected device's running config into a git repository, one commit per run.

Configs are redacted (redact.py) before they reach disk. The repository lives
under ``<state>/backups/network`` (``<tenant>/<device>.cfg``); each run makes
exactly one commit whose message says what changed and what failed, so
``git log -p`` is the change history of the fleet. A device that could not be
read keeps its previous file and is named in the commit message.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import subprocess
from pathlib import Path

from faellesdrift.audit import who
from faellesdrift.estate import Estate
from faellesdrift.network.errors import NetworkError
from faellesdrift.network.filters import Filters
from faellesdrift.network.platforms import platform_spec
from faellesdrift.network.redact import for_backup, load_key
from faellesdrift.network.results import DeviceResult, FleetResult, Status
from faellesdrift.network.runner import read_running, run, session
from faellesdrift.network.settings import NetworkSettings

COMMAND = "network backup"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    actor = who()
    cmd = ["git", "-C", str(repo), "-c", f"user.name={actor}",
           "-c", f"user.email={actor}@faellesdrift.invalid", "-c", "commit.gpgsign=false",
           "-c", "core.hooksPath=/dev/null", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise NetworkError(f"git {args[0]} in {repo} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def ensure_repo(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        _git(repo, "init", "-q")
        (repo / "README").write_text(
            "Running configs of the community's network devices, redacted, one commit per "
            "`faellesdrift network backup` run. Do not edit by hand.\n", encoding="utf-8")
        _git(repo, "add", "README")
        _git(repo, "commit", "-q", "-m", "backup repository created")


def backup(estate: Estate, settings: NetworkSettings, filters: Filters | None = None
           ) -> FleetResult:
    """Read every selected device, write redacted configs, commit once."""
    return commit(settings, *read(estate, settings, filters))


def read(estate: Estate, settings: NetworkSettings, filters: Filters | None = None
         ) -> tuple[FleetResult, dict[str, str]]:
    """Every selected device's running config, redacted, by device; nothing is written.

    A run split over several readers (shards on workers) merges their results
    and configs and calls ``commit`` once.
    """
    configs: dict[str, str] = {}
    key = load_key(settings.redaction_key)

    def job(task, host) -> DeviceResult:
        spec = platform_spec(host.spec.platform)
        configs[host.name] = for_backup(read_running(session(task), spec), spec.name, key)
        return DeviceResult(host.name, host.tenant, spec.name, Status.OK, "read")

    return run(estate, settings, filters, COMMAND, job), configs


def commit(settings: NetworkSettings, fleet: FleetResult, configs: dict[str, str]
           ) -> FleetResult:
    """Write the configs read into the repository and commit them: one commit per run."""
    repo = settings.backups
    ensure_repo(repo)
    with _locked(repo):
        hosts = tuple(_store(repo, h, configs.get(h.host)) for h in fleet.hosts)
        fleet = FleetResult(fleet.command, hosts, fleet.started, fleet.finished, fleet.target,
                            fleet.details)
        message = commit_message(fleet)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", message)
        head = _git(repo, "rev-parse", "HEAD").strip()
    return FleetResult(fleet.command, fleet.hosts, fleet.started, fleet.finished, fleet.target,
                       {**fleet.details, "repository": str(repo), "commit": head})


def squash(settings: NetworkSettings, fleet: FleetResult, first: str, last: str
           ) -> FleetResult:
    """Two waves of one run (a canary, then the rest) as the run's one commit.

    Only when ``last`` is the head and ``first`` its parent: a commit of another
    run in between is never folded into this one (the two commits then stay).
    """
    repo = settings.backups
    with _locked(repo):
        if (_git(repo, "rev-parse", "HEAD").strip() != last
                or _git(repo, "rev-parse", f"{last}^").strip() != first):
            return fleet
        _git(repo, "reset", "-q", "--soft", f"{first}^")
        _git(repo, "commit", "-q", "--allow-empty", "-m", commit_message(fleet))
        head = _git(repo, "rev-parse", "HEAD").strip()
    return FleetResult(fleet.command, fleet.hosts, fleet.started, fleet.finished, fleet.target,
                       {**fleet.details, "repository": str(repo), "commit": head})


def _store(repo: Path, result: DeviceResult, text: str | None) -> DeviceResult:
    rel = f"{result.tenant}/{result.host}.cfg"
    if result.status.bad or text is None:
        return result
    path = repo / rel
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    if old == text:
        return DeviceResult(result.host, result.tenant, result.platform, Status.OK, "unchanged",
                          details={"file": rel}, seconds=result.seconds)
    added = removed = 0
    for line in difflib.unified_diff((old or "").splitlines(), text.splitlines(), lineterm="",
                                     n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    reason = "new backup" if old is None else f"changed (+{added} -{removed})"
    return DeviceResult(result.host, result.tenant, result.platform, Status.CHANGED, reason,
                      details={"file": rel, "added": added, "removed": removed},
                      seconds=result.seconds)


def commit_message(fleet: FleetResult) -> str:
    changed = [h for h in fleet.hosts if h.status is Status.CHANGED]
    failed = [h for h in fleet.hosts if h.status.bad]
    unchanged = [h for h in fleet.hosts if h.status is Status.OK]
    head = (f"network backup: {len(changed)} changed, {len(unchanged)} unchanged, "
            f"{len(failed)} failed ({fleet.details.get('filters', 'all devices')})")
    body = []
    if changed:
        body += ["", "Changed:"] + [f"  {h.host}: {h.reason}" for h in changed]
    if failed:
        body += ["", "Not read (previous backup kept):"] + [
            f"  {h.host}: {h.status.value}: {h.reason}" for h in failed]
    body += ["", f"Target: {fleet.target}. Run by {who()}."]
    return "\n".join([head, *body]) + "\n"


class _locked:
    """One writer at a time per repository (shards may back up concurrently)."""

    def __init__(self, repo: Path) -> None:
        self.path = repo / ".git" / "faellesdrift.lock"

    def __enter__(self) -> None:
        self.fh = open(self.path, "a+")
        fcntl.flock(self.fh, fcntl.LOCK_EX)

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
