"""The plans a review runs for the tenants and hosts a change touches — nothing more.

- platform: the platform adapter's plan (Pulumi preview with its policies) for the
  affected tenants, run as its command (``platform_plan``: the one place that knows
  how the platform is planned for a tenant);
- network: the changed devices' intended configs before and after, rendered by the
  network adapter's renderer, as a unified diff (secrets redacted; no device is
  contacted);
- servers: the servers adapter's playbook check (``servers plan``) limited to the
  changed servers that exist already (a new server is created by the delivery).

Every step is a ``PlanStep``: done, failed (with why) or skipped (with why).
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from faellesdrift import clock
from faellesdrift.estate import Estate
from faellesdrift.settings import Settings

StepStatus = Literal["done", "failed", "skipped"]
KINDS = ("platform", "network", "servers")
TITLES = {"platform": "Platform (Pulumi preview with the policy pack)",
          "network": "Network (intended config, before → after)",
          "servers": "Servers (Ansible check mode, changes nothing)"}
TIMEOUT = 1800.0


@dataclass
class PlanStep:
    id: str  # platform, network, servers
    title: str
    status: StepStatus
    summary: str
    command: str = ""
    targets: tuple[str, ...] = ()  # tenants (platform) or hosts planned
    details: dict[str, Any] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)  # host → unified diff (network)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status,
                "summary": self.summary, "command": self.command,
                "targets": list(self.targets), "details": self.details, "diffs": self.diffs}


# ------------------------------------------------------------------ commands


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(FAELLESDRIFT_ROOT=str(settings.root), FAELLESDRIFT_STATE=str(settings.state_dir),
               NO_COLOR="1", COLUMNS=env.get("COLUMNS", "160"))
    env.setdefault("FAELLESDRIFT_TODAY", clock.today().isoformat())
    return env


@dataclass(frozen=True)
class CommandRun:
    argv: tuple[str, ...]
    code: int | None
    data: Any  # the parsed JSON on stdout, or None
    error: str  # the last line on stderr (or why it did not run)

    @property
    def shown(self) -> str:
        return "faellesdrift " + " ".join(self.argv)


def run_json(settings: Settings, cli: list[str], argv: Iterable[str],
             timeout: float = TIMEOUT) -> CommandRun:
    """Run one faellesdrift command with ``-o json`` and read what it printed."""
    args = (*argv, "-o", "json")
    try:
        proc = subprocess.run([*cli, *args], env=_env(settings), capture_output=True,
                              text=True, errors="replace", stdin=subprocess.DEVNULL,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return CommandRun(args, None, None, f"timed out after {timeout:.0f} s")
    except OSError as exc:
        return CommandRun(args, None, None, f"cannot start {cli[0]}: {exc.strerror}")
    err = [x for x in proc.stderr.splitlines() if x.strip()]
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    return CommandRun(args, proc.returncode, data, err[-1].strip() if err else "")


def _repeat(option: str, values: Iterable[str]) -> list[str]:
    return [x for v in values for x in (option, v)]


# ------------------------------------------------------------------ platform


def platform_plan(settings: Settings, cli: list[str], tenants: list[str]) -> CommandRun:
    """The platform adapter's plan for these tenants only (one stack per tenant where the
    adapter has them; each tenant's resources in the lab stack otherwise)."""
    return run_json(settings, cli, ["plan", *_repeat("--tenant", tenants)])


def plan_platform(settings: Settings, cli: list[str], tenants: list[str]) -> PlanStep:
    title = TITLES["platform"]
    if not tenants:
        return PlanStep("platform", title, "skipped", "no tenant is affected")
    run = platform_plan(settings, cli, tenants)
    data = run.data if isinstance(run.data, dict) else None
    if data is None:
        return PlanStep("platform", title, "failed",
                        f"exit {run.code}: {run.error or 'no plan was printed'}",
                        run.shown, tuple(tenants))
    per, violations, exempted = _per_tenant(data, tenants)
    parts = [f"{slug}: " + ", ".join(f"{t.get(k, 0)} to {k}" for k in
                                     ("create", "update", "replace", "delete"))
             + (f" (stack {t['stack']})" if t.get("stack") else "")
             for slug, t in sorted(per.items())]
    ok = bool(data.get("ok")) and run.code == 0
    summary = "; ".join(parts) or "no resources of these tenants"
    if violations:
        summary += f"; {len(violations)} mandatory policy violation(s)"
    errors = [str(e) for e in [data.get("error"), *(t.get("error") for t in per.values())] if e]
    if not ok and errors:
        summary += "; " + "; ".join(errors)
    return PlanStep("platform", title, "done" if ok else "failed", summary, run.shown,
                    tuple(tenants), {"tenants": per, "violations": violations,
                                     "exempted": exempted})


def _per_tenant(data: dict, tenants: list[str]) -> tuple[dict, list[dict], list[str]]:
    """Per tenant counts, mandatory violations and exemptions from the plan's JSON: one
    stack per tenant (``stacks``) or one stack with per-tenant counts (``tenants``)."""
    wanted = set(tenants)
    violations: list[dict] = []
    exempted: list[str] = []
    if isinstance(data.get("stacks"), dict):
        per = {slug: s for slug, s in data["stacks"].items() if slug in wanted}
        for slug, s in per.items():
            violations += [({"tenant": slug, **v} if isinstance(v, dict)
                            else {"tenant": slug, "message": str(v)})
                           for v in s.get("violations") or ()]
            exempted += [e.get("message", str(e)) if isinstance(e, dict) else str(e)
                         for e in s.get("exempted") or ()]
        return per, violations, exempted
    per = {slug: t for slug, t in (data.get("tenants") or {}).items() if slug in wanted}
    violations = [v for v in data.get("violations") or () if v.get("tenant") in wanted]
    exempted = [e.get("message", "") for e in data.get("exempted") or ()
                if e.get("tenant") in wanted]
    return per, violations, exempted


# ------------------------------------------------------------------ network


def config_diff(before: Estate | None, after: Estate, host: str) -> tuple[str, str]:
    """(unified diff, note) of one device's intended config; secrets redacted."""
    from faellesdrift.network.intended import ControlValueError, render
    from faellesdrift.network.redact import for_backup

    def text(estate: Estate | None) -> str:
        if estate is None or host not in {h.name for h in estate.hosts("network_device")}:
            return ""
        return for_backup(render(estate, estate.host(host)).text)

    try:
        old, new = text(before), text(after)
    except ControlValueError as exc:
        return "", str(exc)
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(),
                                 f"a/{host}.cfg" if old else "/dev/null", f"b/{host}.cfg",
                                 lineterm="", n=1)
    return "\n".join(lines), ""


def plan_network(before: Estate | None, after: Estate, devices: list[str]) -> PlanStep:
    title = TITLES["network"]
    if not devices:
        return PlanStep("network", title, "skipped", "no network device is affected")
    diffs, failed = {}, {}
    for host in devices:
        diff, problem = config_diff(before, after, host)
        if problem:
            failed[host] = problem
        elif diff:
            diffs[host] = diff
    same = [h for h in devices if h not in diffs and h not in failed]
    parts = [f"{len(diffs)} device(s) with a changed config"]
    if same:
        parts.append(f"unchanged: {', '.join(same)}")
    if failed:
        parts.append("cannot render: " + "; ".join(f"{h}: {m}" for h, m in failed.items()))
    return PlanStep("network", title, "failed" if failed else "done", "; ".join(parts),
                    "(built in: the network adapter's renderer, no device contacted)",
                    tuple(devices), {"unchanged": same, "failed": failed}, diffs)


# ------------------------------------------------------------------ servers


def plan_servers(settings: Settings, cli: list[str], existing: list[str], new: list[str]
                 ) -> PlanStep:
    title = TITLES["servers"]
    note = f"new, created by the delivery: {', '.join(new)}" if new else ""
    if not existing:
        return PlanStep("servers", title, "skipped",
                        note or "no existing server is affected", targets=tuple(new))
    run = run_json(settings, cli, ["servers", "plan", *_repeat("--host", existing)])
    data = run.data if isinstance(run.data, dict) else None
    if data is None:
        return PlanStep("servers", title, "failed",
                        f"exit {run.code}: {run.error or 'no plan was printed'}"
                        + (f"; {note}" if note else ""), run.shown, tuple(existing))
    hosts = data.get("hosts") or {}
    rows = hosts.values() if isinstance(hosts, dict) else hosts
    per = {h.get("host"): {"status": h.get("status"), "would_change": h.get("changed", 0),
                           "reason": h.get("reason", ""),
                           "tasks": [f"{c.get('role')}: {c.get('task')}"
                                     for c in h.get("changes") or ()]}
           for h in rows}
    drift = [h for h, r in per.items() if r["would_change"]]
    summary = (f"{len(per)} server(s) checked, {len(drift)} would change"
               + (f" ({', '.join(drift)})" if drift else ""))
    if data.get("left_out"):
        summary += f"; left out: {', '.join(sorted(data['left_out']))}"
    if note:
        summary += f"; {note}"
    ok = run.code == 0 and bool(data.get("ok", True))
    return PlanStep("servers", title, "done" if ok else "failed", summary, run.shown,
                    tuple(existing), {"hosts": per, "left_out": data.get("left_out") or {}})
