"""The server baseline at the speed of the machine: anchor vs tuned, side by side, one run.

Both legs run the six baseline roles on the same lab hosts (fresh ones for each
leg: the lab is brought down and up again in between), through the same runner
and result parsing, and end with the same testinfra verification:

* anchor: the roles as written before the tuning (one task per file, service and
  check; facts gathered), taken read-only from git revision ``--anchor-rev``, run
  with Ansible's default settings (forks 5, linear strategy, no pipelining,
  interpreter discovery; only what reaching the lab needs is set);
* tuned: the project's roles and settings (faellesdrift.servers.runner): one module
  call per role, no facts, pipelining, free strategy, forks from the machine.

For each leg: first converge (apply on fresh hosts) once, then ``--repeat``
no-change applies (median), then `faellesdrift verify`'s checks. It prints both
legs, the ratios anchor/tuned, and whether the legs changed the same files.

Run as root:  .venv/bin/python benchmarks/servers.py [--hosts 10] [--repeat 3] [-o json]
It uses its own lab prefix (fdsb), ports and loopback range, state in a temp dir,
and takes its lab down at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from faellesdrift.estate import Estate, load_estate
from faellesdrift.lab import Lab, LabPaths, LabSettings, cache_dir
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.lab.spec import LabPlan
from faellesdrift.servers import runner
from faellesdrift.servers.access import Access
from faellesdrift.servers.hostvars import Selection, select
from faellesdrift.servers.results import RunResult
from faellesdrift.servers.verify import verify
from faellesdrift.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = LabSettings(prefix="fdsb", device_ports=(48100, 48199),
                       loopback=IPv4Network("127.58.0.0/16"), ready_timeout=300)
ANCHOR_REV = "9102b08"  # the baseline before the tuning: one task per file and service
ANSIBLE_DEFAULT_FORKS = 5

# Ansible's defaults: only what reaching the lab needs (its ssh_config with strict host
# keys, a private control dir that is closed afterwards) and where the roles are.
ANCHOR_CFG = """\
# Benchmark anchor: Ansible's default settings ({forks} forks passed in, Ansible's default).
[defaults]
host_key_checking = True
retry_files_enabled = False
nocolor = True
roles_path = {roles}
local_tmp = {tmp}/local

[ssh_connection]
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -F {ssh_config}
control_path_dir = {control}
"""


@dataclass
class Leg:
    name: str
    converge: float = 0.0
    converge_changed_tasks: int = 0
    no_change: list[float] = field(default_factory=list)
    no_change_changed_tasks: int = 0
    failed_hosts: list[str] = field(default_factory=list)
    verify_passed: int = 0
    verify_failed: int = 0
    kept: list[str] = field(default_factory=list)  # "host: control by exception (verified)"
    changed_paths: dict[str, set[str]] = field(default_factory=dict)  # on the fresh hosts
    slowest: dict[str, Any] = field(default_factory=dict)

    @property
    def no_change_median(self) -> float:
        return statistics.median(self.no_change) if self.no_change else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"leg": self.name, "first_converge_s": round(self.converge, 1),
                "first_converge_changed_tasks": self.converge_changed_tasks,
                "no_change_s": [round(x, 1) for x in self.no_change],
                "no_change_median_s": round(self.no_change_median, 1),
                "no_change_changed_tasks": self.no_change_changed_tasks,
                "failed_hosts": self.failed_hosts, "verify_passed": self.verify_passed,
                "verify_failed": self.verify_failed, "kept_by_exception": self.kept,
                "slowest": self.slowest}


def choose_hosts(estate: Estate, count: int) -> LabPlan:
    """``count`` servers, whole tenants first from the smallest (samsoe's 10 for --hosts 10)."""
    full = plan_from_estate(estate)
    chosen: dict[str, list[str]] = {}
    left = count
    for t in sorted(full.tenants, key=lambda t: (len(t.servers), t.slug)):
        if left <= 0:
            break
        names = [s.name for s in t.servers][:left]
        chosen[t.slug] = names
        left -= len(names)
    if left > 0:
        raise SystemExit(f"--hosts {count}: the sample community has only {count - left} servers")
    tenants = tuple(replace(t, devices=(), servers=tuple(
        s for s in t.servers if s.name in chosen[t.slug])) for t in full.tenants
        if t.slug in chosen)
    return replace(full, tenants=tenants)


def anchor_playbooks(rev: str, into: Path) -> Path:
    """The roles at ``rev``, read with `git archive` (no checkout: the work tree is untouched)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "playbooks"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"--anchor-rev {rev}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "playbooks"


@contextmanager
def anchor_settings() -> Iterator[None]:
    """The runner with Ansible's default settings instead of the project's."""
    tuned = runner.ANSIBLE_CFG
    runner.ANSIBLE_CFG = ANCHOR_CFG
    try:
        yield
    finally:
        runner.ANSIBLE_CFG = tuned


def changed_paths(result: RunResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for h in result.hosts.values():
        out[h.host] = {p.strip() for c in h.changes for p in (c.path or "").split(",")
                       if p.strip()}
    return out


def run_leg(name: str, lab: Lab, plan: LabPlan, estate: Estate, state: Path, root: Path,
            repeat: int, forks: int | None, strategy: str = "free") -> Leg:
    leg = Leg(name)
    lab.down(reset=True)
    lab.up(plan)
    settings = Settings(root=root, state_dir=state, cache_dir=state / "cache")
    access = Access.from_lab(settings)
    selection: Selection = select(estate, reachable=access.servers, connect_user=access.user)

    def apply() -> tuple[RunResult, float]:
        start = time.monotonic()
        r = runner.run(selection, access, settings, mode="apply", forks=forks,
                       command=f"benchmark {name}", strategy=strategy)
        return r, time.monotonic() - start

    first, leg.converge = apply()
    leg.converge_changed_tasks = first.changed_tasks
    leg.changed_paths = changed_paths(first)
    leg.failed_hosts = sorted(h.host for h in first.hosts.values() if not h.succeeded)
    leg.slowest = first.slowest()
    print(f"  {name}: first converge {leg.converge:6.1f} s "
          f"({first.changed_tasks} changed tasks, {len(leg.failed_hosts)} failed hosts)",
          flush=True)
    for i in range(repeat):
        again, took = apply()
        leg.no_change.append(took)
        leg.no_change_changed_tasks = max(leg.no_change_changed_tasks, again.changed_tasks)
        leg.failed_hosts = sorted(set(leg.failed_hosts) | {
            h.host for h in again.hosts.values() if not h.succeeded})
        print(f"  {name}: no-change run {i + 1}  {took:6.1f} s "
              f"({again.changed_tasks} changed tasks)", flush=True)
    checked = verify(selection, access, Settings(root=ROOT, state_dir=state,
                                                 cache_dir=state / "cache"))
    leg.verify_passed = sum(h.passed for h in checked.hosts.values())
    leg.verify_failed = sum(h.failed for h in checked.hosts.values()) + len(checked.errors)
    leg.kept = [f"{h.host}: {k.control} by {k.exception} "
                f"({'verified' if k.verified else 'NOT on the host'})"
                for h in checked.hosts.values() for k in h.kept]
    lab.down(reset=True)
    return leg


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10, help="lab servers (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="no-change runs per leg")
    parser.add_argument("--anchor-rev", default=ANCHOR_REV,
                        help="git revision whose playbooks/ is the anchor's roles")
    parser.add_argument("--skip-anchor", action="store_true", help="run the tuned leg only")
    parser.add_argument("--forks", type=int, default=None,
                        help="forks for the tuned leg (default: the runner's choice)")
    parser.add_argument("--strategy", default="free",
                        help="the tuned leg's strategy (mitogen_free if Mitogen is installed)")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    args = parser.parse_args()
    if args.hosts < 1 or args.repeat < 1:
        parser.error("--hosts and --repeat must be at least 1")
    estate = load_estate(ROOT)
    plan = choose_hosts(estate, args.hosts)
    hosts = sum(len(t.servers) for t in plan.tenants)
    print(f"{hosts} lab servers of {', '.join(t.slug for t in plan.tenants)}; "
          f"{args.repeat} no-change run(s) per leg", flush=True)
    legs: list[Leg] = []
    with tempfile.TemporaryDirectory(prefix="fd-servers-bench-") as tmp:
        lab = Lab(LabPaths(root=Path(tmp) / "state" / "lab", cache=cache_dir() / "lab"),
                  SETTINGS)
        try:
            if not args.skip_anchor:
                anchor_root = Path(tmp) / "anchor"
                anchor_root.mkdir()
                anchor_playbooks(args.anchor_rev, anchor_root)
                with anchor_settings():
                    legs.append(run_leg("anchor", lab, plan, estate, Path(tmp) / "state",
                                        anchor_root, args.repeat, ANSIBLE_DEFAULT_FORKS))
            legs.append(run_leg("tuned", lab, plan, estate, Path(tmp) / "state", ROOT,
                                args.repeat, args.forks, args.strategy))
        finally:
            lab.down(reset=True)
    report(legs, hosts, args)


def report(legs: list[Leg], hosts: int, args: argparse.Namespace) -> None:
    by = {leg.name: leg for leg in legs}
    same_files = None
    if "anchor" in by and "tuned" in by:
        same_files = by["anchor"].changed_paths == by["tuned"].changed_paths
    ratios = {}
    if "anchor" in by and "tuned" in by:
        a, t = by["anchor"], by["tuned"]
        ratios = {"first_converge": round(a.converge / t.converge, 2) if t.converge else None,
                  "no_change": round(a.no_change_median / t.no_change_median, 2)
                  if t.no_change_median else None}
    if args.output == "json":
        print(json.dumps({"hosts": hosts, "repeat": args.repeat, "anchor_rev": args.anchor_rev,
                          "legs": [leg.to_dict() for leg in legs], "ratios": ratios,
                          "same_files_changed": same_files}, indent=2))
        return
    print()
    print(f"{'leg':<8} {'hosts':>5} {'first converge':>15} {'no-change (median)':>19} "
          f"{'changed tasks 1st/2nd':>22} {'verify passed/failed':>21} {'failed hosts':>13}")
    for leg in legs:
        print(f"{leg.name:<8} {hosts:>5} {leg.converge:>13.1f} s {leg.no_change_median:>17.1f} s "
              f"{leg.converge_changed_tasks:>14}/{leg.no_change_changed_tasks:<7} "
              f"{leg.verify_passed:>13}/{leg.verify_failed:<7} {len(leg.failed_hosts):>13}")
    if ratios:
        a, t = by["anchor"], by["tuned"]
        print(f"{'ratio':<8} {'':>5} {ratio(a.converge, t.converge):>15} "
              f"{ratio(a.no_change_median, t.no_change_median):>19}   (anchor / tuned)")
        print(f"same files changed on the fresh hosts: {'yes' if same_files else 'NO'}")
        if not same_files:
            for host in sorted(a.changed_paths):
                only_a = a.changed_paths[host] - t.changed_paths.get(host, set())
                only_t = t.changed_paths.get(host, set()) - a.changed_paths[host]
                if only_a or only_t:
                    print(f"  {host}: anchor only {sorted(only_a)}, tuned only {sorted(only_t)}")
                    break
    for leg in legs:
        if leg.kept:
            print(f"{leg.name} kept by exception: {'; '.join(leg.kept)}")
        slow = leg.slowest
        if slow.get("hosts"):
            print(f"{leg.name} first converge, slowest hosts: " + ", ".join(
                f"{h['host']} {h['seconds']:.1f} s" for h in slow["hosts"]) + "; costliest "
                "tasks: " + ", ".join(f"{x['task']} {x['seconds']:.1f} s" for x in slow["tasks"]))
    bad = [leg.name for leg in legs if leg.failed_hosts or leg.verify_failed]
    if bad:
        print(f"failures in: {', '.join(bad)}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
