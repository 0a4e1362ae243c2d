"""Results of a server run as data: one ServerResult per host, parsed from ansible-runner events.

Failures are results, not exceptions: an unreachable host or a failed task
becomes a ServerResult with a reason, and the run goes on for the other hosts.
``EventCollector`` is the ``event_handler`` given to ``ansible_runner.run``;
it is pure (no I/O), so tests feed it recorded events.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from faellesdrift.servers.hostvars import ROLES, Selection, controls_of_role

Mode = Literal["plan", "apply"]
Status = Literal["ok", "changed", "failed", "unreachable", "not run"]

MAX_DIFF_CHARS = 4000
SLOWEST = 3  # hosts and tasks the run summary names


@dataclass(frozen=True)
class TaskChange:
    """A task that changed something (apply) or would change it (plan)."""

    task: str
    role: str
    action: str
    path: str | None
    diff: str  # unified diff, possibly empty (e.g. a new user has no file diff)
    controls: tuple[str, ...]  # the controls the role applies

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "role": self.role, "action": self.action, "path": self.path,
                "controls": list(self.controls), "diff": self.diff}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskChange:
        return cls(d["task"], d["role"], d["action"], d.get("path"), d.get("diff", ""),
                   tuple(d.get("controls") or ()))


@dataclass(frozen=True)
class TaskFailure:
    task: str
    role: str
    message: str
    unreachable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "role": self.role, "message": self.message,
                "unreachable": self.unreachable}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskFailure:
        return cls(d["task"], d["role"], d["message"], bool(d.get("unreachable")))


@dataclass
class ServerResult:
    host: str
    tenant: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    ignored: int = 0
    seen: bool = False  # at least one event arrived for this host
    changes: list[TaskChange] = field(default_factory=list)
    failures: list[TaskFailure] = field(default_factory=list)
    exceptions: dict[str, str] = field(default_factory=dict)  # control -> exception id kept
    seconds: float = 0.0  # from the host's first task's start to its last task's end

    @property
    def status(self) -> Status:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        if not self.seen:
            return "not run"
        return "changed" if self.changed else "ok"

    @property
    def succeeded(self) -> bool:
        return self.status in ("ok", "changed")

    @property
    def reason(self) -> str:
        if self.failures:
            f = self.failures[0]
            where = f"{f.role} : {f.task}" if f.role else f.task
            return f"{where}: {f.message}"
        if not self.seen:
            return "the run ended before this host started"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "tenant": self.tenant, "status": self.status,
                "ok": self.ok, "changed": self.changed, "failed": self.failed,
                "unreachable": self.unreachable, "skipped": self.skipped,
                "reason": self.reason, "exceptions": dict(self.exceptions),
                "seconds": round(self.seconds, 2),
                "changes": [c.to_dict() for c in self.changes],
                "failures": [f.to_dict() for f in self.failures]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServerResult:
        return cls(d["host"], d["tenant"], ok=d.get("ok", 0), changed=d.get("changed", 0),
                   failed=d.get("failed", 0), unreachable=d.get("unreachable", 0),
                   skipped=d.get("skipped", 0), seen=d.get("status") != "not run",
                   changes=[TaskChange.from_dict(c) for c in d.get("changes") or ()],
                   failures=[TaskFailure.from_dict(f) for f in d.get("failures") or ()],
                   exceptions=dict(d.get("exceptions") or {}),
                   seconds=float(d.get("seconds") or 0.0))


@dataclass
class RunResult:
    mode: Mode
    run_id: str
    hosts: dict[str, ServerResult]
    left_out: dict[str, str] = field(default_factory=dict)
    rc: int | None = None
    status: str = ""  # ansible-runner's status: successful, failed, timeout, canceled
    error: str = ""  # why the run failed as a whole (no per-host results), if it did
    elapsed: float = 0.0
    artifacts: str = ""
    task_seconds: dict[str, float] = field(default_factory=dict)  # "role : task" -> all hosts
    reused_from: str = ""  # a plan reused by apply: when it was made

    @property
    def ok(self) -> bool:
        return not self.error and all(h.succeeded for h in self.hosts.values())

    def count(self, status: Status) -> int:
        return sum(h.status == status for h in self.hosts.values())

    @property
    def changed_tasks(self) -> int:
        return sum(h.changed for h in self.hosts.values())

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("ok", "changed", "failed", "unreachable", "not run")}

    def slowest(self, n: int = SLOWEST) -> dict[str, list[dict[str, Any]]]:
        """The hosts that took longest, and the tasks that cost most over all hosts."""
        hosts = sorted((h for h in self.hosts.values() if h.seconds),
                       key=lambda h: -h.seconds)[:n]
        tasks = sorted(self.task_seconds.items(), key=lambda kv: -kv[1])[:n]
        return {"hosts": [{"host": h.host, "seconds": round(h.seconds, 2)} for h in hosts],
                "tasks": [{"task": k, "seconds": round(v, 2)} for k, v in tasks]}

    def merge(self, other: RunResult) -> RunResult:
        """This run and one over other hosts (a canary wave and the rest) as one result."""
        seconds = dict(self.task_seconds)
        for task, s in other.task_seconds.items():
            seconds[task] = seconds.get(task, 0.0) + s
        statuses = {self.status, other.status} - {""}
        return RunResult(self.mode, f"{self.run_id}, {other.run_id}",
                         {**self.hosts, **other.hosts}, {**self.left_out, **other.left_out},
                         max((r for r in (self.rc, other.rc) if r is not None), default=None),
                         "successful" if statuses == {"successful"} else
                         ",".join(sorted(statuses)),
                         "; ".join(filter(None, (self.error, other.error))),
                         self.elapsed + other.elapsed, self.artifacts, seconds)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "run_id": self.run_id, "ok": self.ok, "rc": self.rc,
                "status": self.status, "error": self.error or None,
                "elapsed_s": round(self.elapsed, 1), "summary": self.summary(),
                "changed_tasks": self.changed_tasks, "artifacts": self.artifacts,
                "slowest": self.slowest(), "reused_from": self.reused_from or None,
                "task_seconds": {k: round(v, 3) for k, v in self.task_seconds.items()},
                "hosts": [h.to_dict() for h in self.hosts.values()],
                "left_out": dict(self.left_out)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        """A result saved with ``to_dict`` (a plan that an apply reuses)."""
        hosts = [ServerResult.from_dict(h) for h in d.get("hosts") or ()]
        return cls(mode=d["mode"], run_id=d["run_id"], hosts={h.host: h for h in hosts},
                   left_out=dict(d.get("left_out") or {}), rc=d.get("rc"),
                   status=d.get("status") or "", error=d.get("error") or "",
                   elapsed=float(d.get("elapsed_s") or 0.0), artifacts=d.get("artifacts", ""),
                   task_seconds=dict(d.get("task_seconds") or {}))


# ------------------------------------------------------------------ diffs


def render_diff(diff: Any) -> str:
    """Ansible's diff (a dict or a list of dicts with before/after) as unified text."""
    parts = diff if isinstance(diff, list) else [diff]
    out: list[str] = []
    for d in parts:
        if not isinstance(d, dict):
            continue
        if d.get("prepared"):
            out.append(str(d["prepared"]).rstrip("\n"))
            continue
        before, after = d.get("before", ""), d.get("after", "")
        if isinstance(before, dict) or isinstance(after, dict):  # state changes, e.g. a dir
            out.append(f"- {before}\n+ {after}")
            continue
        if before == after:
            continue
        lines = difflib.unified_diff(
            str(before).splitlines(), str(after).splitlines(),
            fromfile=str(d.get("before_header", "before")),
            tofile=str(d.get("after_header", "after")), lineterm="")
        out.append("\n".join(lines))
    text = "\n".join(p for p in out if p)
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + f"\n… ({len(text) - MAX_DIFF_CHARS} more characters)"
    return text


def _message(res: dict[str, Any]) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("reason") or ""
    if not msg and isinstance(res.get("results"), list):  # a loop: the first failed item
        for item in res["results"]:
            if isinstance(item, dict) and item.get("failed"):
                msg = item.get("msg") or item.get("stderr") or ""
                break
    msg = " ".join(str(msg).split())
    return msg[:500] or "failed (no message)"


def _role(event_data: dict[str, Any]) -> str:
    role = event_data.get("role") or ""
    return role.split(".")[-1]


# ------------------------------------------------------------------ events

Progress = Callable[[str, str, str], None]  # (host, task, state)


class EventCollector:
    """The event_handler for ansible_runner.run: turns events into HostResults.

    ``on_progress(host, task, state)`` is called as each host finishes a task
    (state: ok, changed, skipped, failed, unreachable, ignored), with state
    "finished" when a host has finished the baseline's last role, and once with
    state "done" per host when the play's stats arrive. Task timings (ansible-runner's
    start/end/duration) give each host's time and each task's cost over all hosts.
    """

    def __init__(self, selection: Selection, mode: Mode, on_progress: Progress | None = None):
        self.mode = mode
        self.on_progress = on_progress
        self.hosts: dict[str, ServerResult] = {}
        for b in selection.targets:
            hr = ServerResult(b.host, b.tenant)
            hr.exceptions = {c.control: c.source for c in b.exceptions}
            self.hosts[b.host] = hr
        for r in selection.refused:  # never run: their host vars would be unsafe
            self.hosts[r.host] = ServerResult(
                r.host, r.tenant, failed=1, seen=True,
                failures=[TaskFailure("host vars", "", f"refused: {r.reason}")])
        self.stats_seen = False
        self.last_stdout: list[str] = []
        self.task_seconds: dict[str, float] = {}
        self._span: dict[str, tuple[datetime, datetime]] = {}

    def __call__(self, event: dict[str, Any]) -> bool:
        self.handle(event)
        return True  # keep the event in ansible-runner's artifacts

    def _progress(self, host: str, task: str, state: str) -> None:
        if self.on_progress is not None:
            self.on_progress(host, task, state)

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        stdout = event.get("stdout")
        if stdout:
            self.last_stdout = (self.last_stdout + stdout.splitlines())[-20:]
        if kind == "playbook_on_stats":
            self._stats(data)
            return
        host = data.get("host")
        if not host or host not in self.hosts or not kind.startswith("runner_on_"):
            return
        hr = self.hosts[host]
        hr.seen = True
        task = str(data.get("task") or "")
        role = _role(data)
        res = data.get("res") or {}
        self._time(hr, f"{role} : {task}" if role else task, data)
        if kind == "runner_on_ok":
            if res.get("changed"):
                hr.changed += 1
                hr.changes.append(self._change(task, role, data, res))
                self._progress(host, task, "changed")
            else:
                hr.ok += 1
                self._progress(host, task, "ok")
            if role == ROLES[-1]:
                self._progress(host, task, "finished")
        elif kind == "runner_on_skipped":
            hr.skipped += 1
            self._progress(host, task, "skipped")
        elif kind == "runner_on_failed":
            if data.get("ignore_errors"):
                hr.ignored += 1
                self._progress(host, task, "ignored")
            else:
                hr.failed += 1
                hr.failures.append(TaskFailure(task, role, _message(res)))
                self._progress(host, task, "failed")
        elif kind == "runner_on_unreachable":
            hr.unreachable += 1
            hr.failures.append(TaskFailure(task, role, _message(res), unreachable=True))
            self._progress(host, task, "unreachable")

    def _time(self, hr: ServerResult, name: str, data: dict[str, Any]) -> None:
        duration = data.get("duration")
        if isinstance(duration, int | float):
            self.task_seconds[name] = self.task_seconds.get(name, 0.0) + float(duration)
        try:
            start = datetime.fromisoformat(str(data["start"]))
            end = datetime.fromisoformat(str(data["end"]))
        except (KeyError, ValueError):
            return
        first, last = self._span.get(hr.host, (start, end))
        first, last = min(first, start), max(last, end)
        self._span[hr.host] = (first, last)
        hr.seconds = (last - first).total_seconds()

    def _change(self, task: str, role: str, data: dict[str, Any],
                res: dict[str, Any]) -> TaskChange:
        diffs: list[Any] = []
        paths: list[str] = []
        for r in [res, *(res.get("results") or []), *(res.get("files") or [])]:
            if not isinstance(r, dict):
                continue
            if r is not res and not r.get("changed"):
                continue
            if r is res and res.get("files") is not None:
                continue  # the baseline module: its files say what changed, one by one
            if r.get("diff"):
                diffs.append(r["diff"])
            p = r.get("dest") or r.get("path")
            if isinstance(p, str) and p not in paths:
                paths.append(p)
        flat = [d for x in diffs for d in (x if isinstance(x, list) else [x])]
        return TaskChange(task=task, role=role,
                          action=str(data.get("resolved_action") or data.get("task_action") or ""),
                          path=", ".join(paths) or None, diff=render_diff(flat),
                          controls=controls_of_role(role) if role in ROLES else ())

    def _stats(self, data: dict[str, Any]) -> None:
        """The play's final tallies win over the per-event counts (handlers included)."""
        self.stats_seen = True
        for key, attr in (("ok", "ok"), ("changed", "changed"), ("failures", "failed"),
                          ("dark", "unreachable"), ("skipped", "skipped"),
                          ("ignored", "ignored")):
            for host, n in (data.get(key) or {}).items():
                if host in self.hosts:
                    hr = self.hosts[host]
                    hr.seen = True
                    value = int(n)
                    if attr == "ok":  # Ansible's ok includes changed
                        value = max(0, value - int((data.get("changed") or {}).get(host, 0)))
                    setattr(hr, attr, value)
        for host in self.hosts:
            self._progress(host, "", "done")


# ------------------------------------------------------------------ shared results


def results_payload(result: RunResult, selection: Selection) -> dict[str, Any]:
    """The run as a ``servers.plan`` / ``servers.apply`` payload (faellesdrift.results).

    Per control: a plan marks the controls of every role that would change as
    not compliant; an apply marks a host that finished as compliant (verify is
    the independent check). A host that failed or was unreachable is null.
    """
    baselines = {b.host: b for b in selection.targets}
    tenants: dict[str, Any] = {}
    for h in result.hosts.values():
        b = baselines.get(h.host)
        if b is None:  # refused: no baseline to report on
            entry = tenants.setdefault(h.tenant, {"ok": True, "mode": result.mode,
                                                  "run_id": result.run_id, "hosts": []})
            entry["hosts"].append({"host": h.host, "status": h.status, "reason": h.reason,
                                   "compliant": None, "exceptions": [], "controls": [],
                                   "changed": 0, "changes": []})
            entry["ok"] = False
            continue
        touched = {c for change in h.changes for c in change.controls}
        if not h.succeeded:
            compliant: bool | None = None
        else:
            compliant = (not touched) if result.mode == "plan" else True
        controls = []
        for c in b.controls:
            ok = None if compliant is None else (
                c.control not in touched if result.mode == "plan" else True)
            roles = sorted({x.role for x in h.changes if c.control in x.controls})
            note = (f"{'would change' if result.mode == 'plan' else 'changed'}: "
                    f"{', '.join(roles)}") if roles else ""
            controls.append({"control": c.control, "compliant": ok, "source": c.source,
                             "exception_status": c.exception_status, "note": note})
        row = {"host": h.host, "status": h.status, "reason": h.reason, "compliant": compliant,
               "exceptions": [c.source for c in b.exceptions], "controls": controls,
               "changed": h.changed, "changes": [c.to_dict() for c in h.changes]}
        entry = tenants.setdefault(h.tenant, {"ok": True, "mode": result.mode,
                                              "run_id": result.run_id, "hosts": []})
        entry["hosts"].append(row)
        entry["ok"] = entry["ok"] and h.succeeded and not result.error
    return {"tenants": tenants}
