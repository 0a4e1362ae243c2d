"""Patch state and end of life per server: ``faellesdrift servers facts``.

One read-only Ansible play (playbooks/facts.yml, through ansible-runner) asks each
server what an operator would: Ansible's distribution and kernel facts, apt's
simulated full upgrade (``apt-get -s dist-upgrade`` with the host's own package
lists), /run/reboot-required (written by Debian's package hooks) and the uptime.
This module turns the answers into facts: OS and version, pending updates and
which of them come from a security archive, whether a restart is due, the running
kernel and how old it is, and the date the OS stops getting security updates
(the core's lifecycle table). Failures are results: an unreachable host is a row
with its reason. The facts go to the results store (``servers.facts``, with
history) for the reports.

Which update is a security update is apt's own answer: every candidate version
names the archives that offer it (``Label:Version/Archive``, e.g.
``Debian-Security:12/bookworm-security`` or ``Ubuntu:22.04/jammy-security``), and
an update is a security update when one of them is a security archive — the rule
unattended-upgrades' default origins apply too.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from faellesdrift import clock, lifecycle, results
from faellesdrift.estate import Estate, tenant_group
from faellesdrift.servers.access import Access
from faellesdrift.servers.errors import ServersError
from faellesdrift.servers.hostvars import Selection
from faellesdrift.servers.runner import (
    ANSIBLE_CFG,
    ansible_playbook,
    control_dir,
    default_forks,
    playbooks_dir,
    prune_runs,
    scrub_environment,
)
from faellesdrift.settings import Settings

PLAYBOOK = "facts.yml"
FACTS_TASK = "Report the facts to faellesdrift"
KIND = "servers.facts"

# ------------------------------------------------------------------ apt's simulation

#: ``Inst pkg [current] (candidate Label:Version/Archive, … [arch]) [broken deps]``; a new
#: package has no ``[current]``; apt prints no release part for a version no archive offers.
_INST = re.compile(r"^Inst (?P<package>\S+)(?: \[(?P<current>[^\]]*)\])?"
                   r"(?: \((?P<candidate>\S+)(?P<releases>[^()]*?)(?: \[(?P<arch>[^\]]+)\])?\))?")


@dataclass(frozen=True)
class Origin:
    """One archive that offers a candidate version, as apt names it."""

    label: str  # the Release file's Label (Origin when it has none): Debian-Security, Ubuntu
    version: str  # the Release file's Version: 12, 12.8, 22.04
    archive: str  # the Release file's Suite: bookworm-security, stable, jammy-updates

    @property
    def security(self) -> bool:
        return (self.label.lower().endswith("-security")
                or self.archive.lower().endswith("-security"))

    def __str__(self) -> str:
        return f"{self.label}:{self.version}/{self.archive}"


@dataclass(frozen=True)
class PendingUpdate:
    package: str
    current: str | None  # None: a new package the upgrade would install
    candidate: str
    origins: tuple[Origin, ...]
    arch: str = ""

    @property
    def security(self) -> bool:
        return any(o.security for o in self.origins)

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "current": self.current, "candidate": self.candidate,
                "security": self.security, "origins": [str(o) for o in self.origins]}


def _origin(text: str) -> Origin | None:
    text = text.strip()
    label, colon, rest = text.partition(":")
    if not colon or not label:
        return None
    version, _slash, archive = rest.partition("/")
    return Origin(label, version, archive)


def parse_simulation(text: str) -> list[PendingUpdate]:
    """The packages ``apt-get -s upgrade|dist-upgrade`` would install or upgrade."""
    found: list[PendingUpdate] = []
    for line in text.splitlines():
        m = _INST.match(line.strip())
        if m is None or not m.group("candidate"):
            continue
        origins = tuple(o for part in (m.group("releases") or "").split(",")
                        if (o := _origin(part)) is not None)
        found.append(PendingUpdate(m.group("package"), m.group("current"), m.group("candidate"),
                                   origins, m.group("arch") or ""))
    return found


# ------------------------------------------------------------------ kernel, clock

#: ``#1 SMP PREEMPT_DYNAMIC Debian 6.1.123-1 (2025-01-02)`` (Debian's package date)
_KERNEL_ISO = re.compile(r"\((\d{4}-\d{2}-\d{2})\)\s*$")
#: ``#1 SMP PREEMPT_DYNAMIC @1718100000`` (a reproducible build's time; ``@0``: none given)
_KERNEL_EPOCH = re.compile(r"@(\d+)\s*$")
#: ``#129-Ubuntu SMP Fri Aug 2 19:25:20 UTC 2024`` (the build time)
_KERNEL_STAMP = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\w{3}) +(\d{1,2}) "
                           r"\d{2}:\d{2}:\d{2} (?:\S+ )?(\d{4})\s*$")


def kernel_date(kernel_version: str) -> date | None:
    """When the running kernel was released (Debian) or built (most others), from
    ``uname -v``; None when the string names no date."""
    m = _KERNEL_ISO.search(kernel_version)
    if m:
        try:
            return date.fromisoformat(m.group(1))
        except ValueError:
            return None
    m = _KERNEL_EPOCH.search(kernel_version)
    if m:
        seconds = int(m.group(1))
        return datetime.fromtimestamp(seconds, UTC).date() if 0 < seconds < 2**40 else None
    m = _KERNEL_STAMP.search(kernel_version)
    if m:
        try:
            return datetime.strptime(f"{m.group(2)} {m.group(3)} {m.group(4)}",
                                     "%b %d %Y").date()
        except ValueError:
            return None
    return None


def parse_clock(text: str) -> tuple[float | None, datetime | None]:
    """The play's clock task: /proc/uptime's first line, then each package list's Release
    file's modification time (seconds since the epoch); the lists are as new as the newest."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    uptime = lists = None
    try:
        uptime = float(lines[0].split()[0]) if lines else None
    except (ValueError, IndexError):
        uptime = None
    stamps = [int(x) for x in lines[1:] if x.isdigit()]
    try:
        lists = datetime.fromtimestamp(max(stamps), UTC) if stamps else None
    except (ValueError, OverflowError, OSError):
        lists = None
    return uptime, lists


# ------------------------------------------------------------------ per host


@dataclass
class HostFacts:
    host: str
    tenant: str
    status: str = "not run"  # ok | failed | unreachable | not run
    reason: str = ""
    declared_os: str = ""  # what the tenant file says
    distribution: str = ""
    version: str = ""
    codename: str = ""
    os_key: str | None = None  # the lifecycle table's name of what the host runs
    security_ends: date | None = None
    eol_status: str = "unknown"
    eol_days_left: int | None = None
    kernel: str = ""
    kernel_version: str = ""
    kernel_date: date | None = None
    kernel_age_days: int | None = None
    uptime_days: float | None = None
    lists_updated: datetime | None = None
    reboot_required: bool | None = None
    reboot_packages: tuple[str, ...] = ()
    updates: list[PendingUpdate] = field(default_factory=list)

    @property
    def security_updates(self) -> list[PendingUpdate]:
        return [u for u in self.updates if u.security]

    @property
    def patched(self) -> bool | None:
        """No security update waiting and no restart due; None when not gathered."""
        if self.status != "ok":
            return None
        return not self.security_updates and not self.reboot_required

    @property
    def os_name(self) -> str:
        life = lifecycle.LIFECYCLE.get(self.os_key or "")
        if self.distribution:
            return " ".join(x for x in (self.distribution, self.version,
                                        f"({self.codename})" if self.codename else "") if x)
        return life.name if life else ""

    def to_row(self) -> dict[str, Any]:
        """The results store's host row (faellesdrift.results) with the facts beside it."""
        return {
            "host": self.host, "status": self.status, "reason": self.reason,
            "compliant": self.patched, "exceptions": [], "controls": [],
            "os": self.os_name, "declared_os": self.declared_os, "os_key": self.os_key,
            "distribution": self.distribution, "version": self.version,
            "codename": self.codename,
            "security_ends": self.security_ends.isoformat() if self.security_ends else None,
            "eol_status": self.eol_status, "eol_days_left": self.eol_days_left,
            "kernel": self.kernel, "kernel_version": self.kernel_version,
            "kernel_date": self.kernel_date.isoformat() if self.kernel_date else None,
            "kernel_age_days": self.kernel_age_days,
            "uptime_days": None if self.uptime_days is None else round(self.uptime_days, 1),
            "lists_updated": (self.lists_updated.isoformat(timespec="seconds")
                              if self.lists_updated else None),
            "reboot_required": self.reboot_required,
            "reboot_packages": list(self.reboot_packages),
            "updates": len(self.updates), "security_updates": len(self.security_updates),
            "pending": [u.to_dict() for u in self.updates],
        }


def read_answer(facts: HostFacts, answer: dict[str, Any], today: date) -> HostFacts:
    """Fill ``facts`` from the play's final ``debug`` message for the host."""
    facts.distribution = str(answer.get("distribution") or "")
    facts.version = str(answer.get("distribution_version") or "")
    facts.codename = str(answer.get("distribution_release") or "")
    facts.os_key = lifecycle.os_key(facts.distribution,
                                    str(answer.get("distribution_major_version") or ""),
                                    facts.version)
    if facts.os_key:
        facts.eol_status, facts.eol_days_left = lifecycle.status_of(facts.os_key, today)
        facts.security_ends = lifecycle.LIFECYCLE[facts.os_key].security_ends
    facts.kernel = str(answer.get("kernel") or "")
    facts.kernel_version = str(answer.get("kernel_version") or "")
    facts.kernel_date = kernel_date(facts.kernel_version)
    if facts.kernel_date:
        facts.kernel_age_days = (today - facts.kernel_date).days
    uptime, facts.lists_updated = parse_clock(str(answer.get("clock") or ""))
    facts.uptime_days = None if uptime is None else uptime / 86400
    facts.reboot_required = str(answer.get("reboot_required")).lower() == "true"
    facts.reboot_packages = tuple(dict.fromkeys(
        p.strip() for p in str(answer.get("reboot_packages") or "").splitlines() if p.strip()))
    facts.updates = parse_simulation(str(answer.get("apt_simulation") or ""))
    facts.status, facts.reason = "ok", ""
    if str(answer.get("apt_rc")) not in ("0", ""):
        facts.status, facts.reason = "failed", f"apt-get -s ended with {answer.get('apt_rc')}"
    return facts


# ------------------------------------------------------------------ the run


@dataclass
class FactsResult:
    run_id: str
    hosts: dict[str, HostFacts]
    left_out: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    error: str = ""
    artifacts: str = ""

    @property
    def ok(self) -> bool:
        """Every host answered (pending updates are facts, not failures)."""
        return not self.error and all(h.status == "ok" for h in self.hosts.values())

    def summary(self) -> dict[str, int]:
        hs = list(self.hosts.values())
        return {"hosts": len(hs), "gathered": sum(h.status == "ok" for h in hs),
                "unreachable": sum(h.status == "unreachable" for h in hs),
                "failed": sum(h.status in ("failed", "not run") for h in hs),
                "security_pending": sum(bool(h.security_updates) for h in hs),
                "reboot_required": sum(bool(h.reboot_required) for h in hs),
                "end_of_life": sum(h.eol_status == "end of life" for h in hs)}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "run_id": self.run_id, "summary": self.summary(),
                "elapsed": round(self.elapsed, 1), "error": self.error,
                "artifacts": self.artifacts,
                "hosts": [{"tenant": h.tenant, **h.to_row()} for h in self.hosts.values()],
                "left_out": self.left_out}

    def payload(self) -> dict[str, Any]:
        """The run as a ``servers.facts`` payload: one entry per tenant it gathered."""
        tenants: dict[str, Any] = {}
        for h in self.hosts.values():
            entry = tenants.setdefault(h.tenant, {"ok": True, "run_id": self.run_id,
                                                  "hosts": []})
            entry["hosts"].append(h.to_row())
            entry["ok"] = entry["ok"] and h.status == "ok"
        return {"tenants": tenants}


class _Collector:
    """ansible-runner's event_handler: the facts message, failures and unreachable hosts."""

    def __init__(self, hosts: dict[str, HostFacts], today: date) -> None:
        self.hosts, self.today = hosts, today
        self.stats_seen = False
        self.last_stdout: list[str] = []

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        facts = self.hosts.get(str(data.get("host") or ""))
        if event.get("stdout"):
            self.last_stdout = (self.last_stdout + str(event["stdout"]).splitlines())[-5:]
        if kind == "playbook_on_stats":
            self.stats_seen = True
        elif facts is None:
            pass
        elif kind == "runner_on_ok" and data.get("task") == FACTS_TASK:
            msg = (data.get("res") or {}).get("msg")
            if isinstance(msg, dict):
                read_answer(facts, msg, self.today)
        elif kind == "runner_on_unreachable":
            facts.status = "unreachable"
            facts.reason = _message(data)
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            facts.status = "failed"
            facts.reason = f"{data.get('task', '')}: {_message(data)}"
        return True


def _message(data: dict[str, Any]) -> str:
    res = data.get("res") or {}
    text = str(res.get("msg") or res.get("stderr") or res.get("module_stderr") or "no message")
    return " ".join(text.split())[:300]


def _run_id() -> str:
    return f"{clock.now().strftime('%Y%m%dT%H%M%S')}-facts-{os.getpid()}-{os.urandom(2).hex()}"


def gather(selection: Selection, estate: Estate, access: Access, settings: Settings, *,
           forks: int | None = None, timeout: int = 15) -> FactsResult:
    """Gather the facts of the selected servers (refused ones too: reading facts needs no
    baseline value) and save them as ``servers.facts``. Raises ServersError only when the
    run cannot start."""
    import ansible_runner  # slow to import; only runs need it
    from ansible_runner.exceptions import ConfigurationError

    project = playbooks_dir(settings)
    if not (project / PLAYBOOK).is_file():
        raise ServersError(f"{project / PLAYBOOK} is missing: the facts play lives in "
                           "playbooks/ at the repository root")
    binary = ansible_playbook()
    today = clock.today()
    names = [*selection.names, *(r.host for r in selection.refused)]
    hosts = {n: HostFacts(n, estate.host(n).tenant, declared_os=estate.host(n).spec.os,
                          reason="no answer from the facts play") for n in names}
    run_id = _run_id()
    runs = settings.state_dir / "servers" / "facts-runs"
    run_dir = runs / run_id
    result = FactsResult(run_id, hosts, dict(selection.left_out), artifacts=str(run_dir))
    if not hosts:
        return result
    (run_dir / "inventory").mkdir(parents=True)
    (run_dir / "tmp").mkdir()
    groups: dict[str, Any] = {}
    for h in hosts.values():
        groups.setdefault(tenant_group(h.tenant), {"hosts": {}})["hosts"][h.host] = {
            "ansible_user": access.user}
    inv = run_dir / "inventory" / "hosts.json"
    inv.write_text(json.dumps({"all": {"children": groups}}, indent=2) + "\n")
    forks = forks or default_forks(len(hosts))
    collector = _Collector(hosts, today)
    start = time.monotonic()
    with control_dir() as control:
        cfg = run_dir / "ansible.cfg"
        cfg.write_text(ANSIBLE_CFG.format(
            timeout=timeout, forks=forks, strategy="free", strategy_plugins="",
            roles=project / "roles", tmp=run_dir / "tmp",
            facts=run_dir / "fact-cache", ssh_config=access.ssh_config,
            control=control).replace("gathering = smart", "gathering = implicit"))
        env = {"ANSIBLE_CONFIG": str(cfg),
               "PATH": os.pathsep.join([str(Path(binary).parent), os.environ.get("PATH", "")]),
               "ANSIBLE_FORCE_COLOR": "0", "PYTHONUNBUFFERED": "1"}
        try:
            r = ansible_runner.run(
                private_data_dir=str(run_dir), project_dir=str(project), playbook=PLAYBOOK,
                inventory=str(inv), envvars=env, forks=forks, quiet=True,
                event_handler=collector, ident="ansible", suppress_env_files=True)
        except (ConfigurationError, OSError, ValueError) as exc:
            raise ServersError(f"ansible-runner could not start: {exc}") from None
    result.elapsed = time.monotonic() - start
    scrub_environment(run_dir / "artifacts" / "ansible" / "command")
    if not collector.stats_seen:
        tail = " | ".join(line.strip() for line in collector.last_stdout if line.strip())
        result.error = (f"ansible-playbook ended with {r.status} (rc {r.rc}) before any host "
                        f"finished: {tail or 'no output'} — see {run_dir}/artifacts")
    for h in hosts.values():
        if h.status == "not run" and not result.error:
            h.status = "failed"
    (run_dir / "result.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    results.save(settings, KIND, result.payload())
    prune_runs(runs)
    return result


# ------------------------------------------------------------------ the table

COLUMNS = ("host", "tenant", "status", "OS", "security updates", "other updates",
           "restart due", "kernel", "security support ends", "note")


def table_row(h: HostFacts, style: Any = str) -> list[Any]:
    """One row of the command's table; ``style`` colours the status word."""
    if h.status != "ok":
        return [h.host, h.tenant, style(h.status), h.declared_os, "", "", "", "", "", h.reason]
    sec = h.security_updates
    sec_text = (f"{len(sec)}: " + ", ".join(f"{u.package} {u.candidate}" for u in sec)
                if sec else "0")
    restart = ("yes" + (f" ({', '.join(h.reboot_packages)})" if h.reboot_packages else "")
               if h.reboot_required else "no")
    age = (f"{h.kernel} (built {h.kernel_age_days} days ago)" if h.kernel_age_days is not None
           else f"{h.kernel} (no build date)")
    if h.uptime_days is not None:
        age += f", up {h.uptime_days:.1f} days"
    ends = (f"{h.security_ends.isoformat()} ({h.eol_status})" if h.security_ends
            else "not in the lifecycle table")
    note = ""
    if h.os_key and h.declared_os and h.os_key != h.declared_os:
        note = f"the tenant file says {h.declared_os}"
    return [h.host, h.tenant, style("patched" if h.patched else "behind"), h.os_name, sec_text,
            len(h.updates) - len(sec), restart, age, ends, note]
