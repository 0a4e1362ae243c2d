"""The per-tenant Pulumi layout, measured on the real engine.

1. plan of one tenant after a change to that tenant's file (record target), in the
   sample community (9 tenants) and in a synthetic company of --tenants tenants —
   target < 5 s, independent of the number of tenants;
2. a synthetic company of --tenants tenants (record target, no lab): preview of every
   stack (shared + one per tenant, --parallel 4) — target < 60 s in all; the same
   company as one single stack alongside, for comparison;
3. apply of every sample tenant, the single-stack layout vs the per-tenant stacks with
   --parallel 4, side by side in one run — target >= 2x faster: on the record target (the
   engine alone) and to the lab (what `./dev demo` does); with --big-apply also the
   synthetic company on the record target.

Run as root (part 3 runs the lab; take the shared lab lock so no other lab run collides):
    flock /tmp/fd-lab.lock .venv/bin/python benchmarks/pulumi_stacks.py [--skip-lab]
        [--lab-repeat 3] [--only-apply | --only-preview] [--skip-single]
(The issue calls it benchmarks/platform.py; that name would shadow the standard library's
`platform` module for everything this script imports, since a script's directory comes
first on sys.path.)
It uses its own lab prefix (fdbp), ports and loopback range, temp state dirs, and
brings its lab down at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from faellesdrift.estate import load_estate
from faellesdrift.municipalities import municipalities
from faellesdrift.platform import engine, fleet
from faellesdrift.platform.engine import RunOptions
from faellesdrift.platform.fleet import FleetOptions
from faellesdrift.settings import Settings

REPO = Path(__file__).resolve().parents[1]
LAB_ENV = {"FAELLESDRIFT_LAB_PREFIX": "fdbp", "FAELLESDRIFT_LAB_PORTS": "46800-46999",
           "FAELLESDRIFT_LAB_LOOPBACK": "127.53.0.0/16"}
PLATFORMS = ("cisco_ios", "arista_eos", "juniper_junos")


def say(line: str) -> None:
    print(line, flush=True)


def project(dest: Path, target: str = "record") -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "Pulumi.lab.yaml"):
        shutil.copy(REPO / name, dest / name)
    shutil.copytree(REPO / "stacks", dest / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "Pulumi.bench.yaml").write_text(f"config:\n  faellesdrift:target: {target}\n",
                                            encoding="utf-8")
    return dest


def sample(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(REPO / "community.yaml", dest / "community.yaml")
    shutil.copytree(REPO / "tenants", dest / "tenants")
    return dest


def synthetic(dest: Path, tenants: int, hosts: int) -> Path:
    """A company of ``tenants`` municipalities with ``hosts`` servers + devices each."""
    dest.mkdir(parents=True)
    codes = sorted(municipalities())[:tenants]
    std = (REPO / "community.yaml").read_text(encoding="utf-8")
    head, _, rest = std.partition("pools:")
    rest = rest[rest.index("shared_services:"):]
    start = rest.index("  per_tenant:\n")
    end = rest.index("\n", rest.index("\n", start + 1) + 1) + 1
    while rest[end:].startswith("    "):
        end = rest.index("\n", end) + 1
    rest = rest[:start] + rest[end:]
    pools = "".join(f"  t{c}: 10.{i + 100}.0.0/16\n" for i, c in enumerate(codes))
    (dest / "community.yaml").write_text(head + "pools:\n" + pools + rest, encoding="utf-8")
    (dest / "tenants").mkdir()
    n_dev = max(2, hosts // 4)
    n_srv = hosts - n_dev
    for i, code in enumerate(codes):
        net = i + 100
        lines = [f'code: "{code}"', f"slug: t{code}", f"name: {municipalities()[code].name}",
                 "population: 30000", "contacts:",
                 f"  it_lead: {{name: IT {code}, email: it@t{code}.example.dk}}",
                 f"  security: {{name: Sec {code}, email: sec@t{code}.example.dk}}",
                 ("scope: {servers: shared, network: shared, endpoints: local,"
                  " identities: local, monitoring: shared, backup: shared}"),
                 "networks:", f"  - {{name: mgmt, vlan: 100, prefix: 10.{net}.0.0/24}}",
                 f"  - {{name: servers, vlan: 110, prefix: 10.{net}.10.0/23}}", "servers:"]
        lines += [f"  - {{name: t{code}-srv{s:03d}, address: 10.{net}.{10 + s // 250}.{s % 250 + 2},"
                  " os: debian12, role: app, vcpu: 1, memory_gb: 4, disk_gb: 50,"
                  " criticality: medium, backup: daily}" for s in range(n_srv)]
        lines.append("network_devices:")
        lines += [f"  - {{name: t{code}-dev{d:03d}, platform: {PLATFORMS[d % 3]},"
                  f" address: 10.{net}.0.{d + 2}, role: access, site: Site {d % 5}, ports: 48}}"
                  for d in range(n_dev)]
        lines += ["endpoints: {count: 100}", "identities: {count: 100}", "exceptions: []",
                  "contracts: []", "onboarding: {wave: 1, target: 2027-06-01}"]
        (dest / "tenants" / f"t{code}.yaml").write_text("\n".join(lines) + "\n",
                                                         encoding="utf-8")
    return dest


def settings_for(root: Path, state: Path) -> Settings:
    return Settings(root=root, state_dir=state, cache_dir=Settings.from_env(REPO).cache_dir)


def fleet_run(op: engine.Op, settings: Settings, opts: FleetOptions) -> fleet.StacksResult:
    slugs = list(load_estate(settings.root).slugs)
    result = fleet.run_fleet(op, settings, slugs, opts, known=set(slugs))
    if not result.ok:
        raise SystemExit(f"{op} failed: " + "; ".join(f"{r.stack}: {r.error}"
                                                     for r in result.failed))
    return result


def single_run(op: engine.Op, settings: Settings, proj: Path, env: str) -> engine.EngineRun:
    slugs = set(load_estate(settings.root).slugs)
    result = engine.run(op, settings, RunOptions(stack=env, project_dir=proj),
                        known_tenants=slugs)
    if not result.ok:
        raise SystemExit(f"single-stack {op} failed: {result.error}")
    return result


def plan_one_after_change(settings: Settings, proj: Path, runs: int = 3) -> list[float]:
    """Edit one tenant's file (a server's vCPU), plan only that tenant; ``runs`` times."""
    estate = load_estate(settings.root)
    slug = estate.slugs[len(estate.slugs) // 2]
    server = estate.tenant(slug).servers[0]
    path = settings.root / "tenants" / f"{slug}.yaml"
    took = []
    for i in range(runs):
        body = path.read_text(encoding="utf-8")
        old = f"name: {server.name}, "
        start = body.index(old)
        line_end = body.index("\n", start)
        line = body[start:line_end]
        vcpu = f"vcpu: {server.vcpu + i}"
        new_line = line.replace(vcpu, f"vcpu: {server.vcpu + i + 1}", 1)
        path.write_text(body[:start] + new_line + body[line_end:], encoding="utf-8")
        t = time.monotonic()
        run = fleet.plan_tenant(settings, slug, environment="bench", project_dir=proj)
        took.append(time.monotonic() - t)
        if not run.ok or run.summary().update != 1:
            raise SystemExit(f"plan of {slug} after a change: {run.to_dict()}")
    return took


def part_plan_one(work: Path, root: Path, label: str, parallel: int) -> float:
    proj = project(work / f"project-{label}")
    settings = settings_for(root, work / f"state-{label}")
    opts = FleetOptions(environment="bench", project_dir=proj, parallel=parallel)
    n = len(load_estate(root).slugs)
    t = time.monotonic()
    up = fleet_run("up", settings, opts)
    say(f"  {label}: apply of {n} tenant stacks + shared ({up.changes} resources), "
        f"--parallel {parallel}: {time.monotonic() - t:.1f} s")
    took = plan_one_after_change(settings, proj)
    median = statistics.median(took)
    say(f"  {label}: plan of one tenant after a change to its file: median {median:.2f} s "
        f"({', '.join(f'{x:.2f}' for x in took)})")
    return median


def cpu_seconds() -> float:
    """CPU used so far by this process and its finished children (the CLI, its plugins)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def apply_side_by_side(work: Path, root: Path, parallel: int, name: str,
                       label: str) -> tuple[float, float]:
    """Apply of every tenant of ``root`` (record target: the engine alone, no lab) from an
    empty state: the single stack vs the per-tenant stacks, with the CPU each used; the
    best the per-tenant stacks could do here is their CPU spread over every core."""
    t, cpu = time.monotonic(), cpu_seconds()
    n = single_run("up", settings_for(root, work / f"state-{name}-single"),
                   project(work / f"project-{name}-single"), "bench").totals["create"]
    single, single_cpu = time.monotonic() - t, cpu_seconds() - cpu
    t, cpu = time.monotonic(), cpu_seconds()
    fleet_run("up", settings_for(root, work / f"state-{name}-fleet"),
              FleetOptions(environment="bench", project_dir=project(work / f"project-{name}-fleet"),
                           parallel=parallel))
    per_tenant, per_tenant_cpu = time.monotonic() - t, cpu_seconds() - cpu
    cores = len(os.sched_getaffinity(0))
    say(f"  {label}, record target, {n} resources: single stack {single:.1f} s, "
        f"per-tenant stacks --parallel {parallel} {per_tenant:.1f} s "
        f"({single / per_tenant:.2f}x)")
    say(f"    CPU: single stack {single_cpu:.1f} s ({single_cpu / single:.2f} cores busy), "
        f"per-tenant stacks {per_tenant_cpu:.1f} s ({per_tenant_cpu / per_tenant:.2f} cores "
        f"busy); at best on {cores} cores {single / (per_tenant_cpu / cores):.2f}x")
    return single, per_tenant


def part_apply_lab(work: Path, parallel: int, repeat: int) -> tuple[float, float]:
    """Apply of every sample tenant to the lab from an empty state and a lab brought down:
    the single stack and the per-tenant stacks, taking turns ``repeat`` times; medians."""
    os.environ.update(LAB_ENV)
    from faellesdrift.platform.providers.lab import LabTarget
    root = sample(work / "sample-lab")
    took: dict[str, list[float]] = {"single": [], "per-tenant": []}
    for i in range(repeat):
        for layout in ("single", "per-tenant"):
            proj = project(work / f"project-lab-{layout}-{i}")  # with Pulumi.lab.yaml
            settings = settings_for(root, work / f"state-lab-{layout}-{i}")
            lab = LabTarget.from_env(settings.state_dir, settings.cache_dir).lab()
            lab.down()
            try:
                t = time.monotonic()
                if layout == "single":
                    n = single_run("up", settings, proj, "lab").totals["create"]
                else:
                    n = fleet_run("up", settings, FleetOptions(
                        environment="lab", project_dir=proj, parallel=parallel)).changes
                took[layout].append(time.monotonic() - t)
                say(f"  {layout}: apply of {n} resources to the lab: {took[layout][-1]:.1f} s")
            finally:
                lab.down()
    single, per_tenant = (statistics.median(took[k]) for k in ("single", "per-tenant"))
    say(f"  lab, median of {repeat}: single stack {single:.1f} s, per-tenant stacks "
        f"--parallel {parallel} {per_tenant:.1f} s: {single / per_tenant:.2f}x faster  "
        "(target >= 2x)")
    return single, per_tenant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=25)
    parser.add_argument("--hosts", type=int, default=40, help="servers + devices per tenant")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--skip-lab", action="store_true")
    parser.add_argument("--big-apply", action="store_true",
                        help="also apply the synthetic company: single stack vs per-tenant")
    parser.add_argument("--lab-repeat", type=int, default=1,
                        help="lab applies per layout, taking turns (median)")
    parser.add_argument("--only-apply", action="store_true",
                        help="only part 3 (apply, single stack vs per-tenant stacks)")
    parser.add_argument("--only-preview", action="store_true",
                        help="only part 2 (the synthetic company's preview)")
    parser.add_argument("--skip-single", action="store_true",
                        help="no single-stack preview of the synthetic company")
    args = parser.parse_args()
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        os.environ.pop(var, None)
    engine.find_cli(Settings.from_env(REPO))
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the "
        "machine slows every figure)")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fd-bench-platform-") as tmp:
        work = Path(tmp)
        big = synthetic(work / "synthetic", args.tenants, args.hosts)
        if not args.only_apply:
            say(f"2. synthetic company: {args.tenants} tenants x {args.hosts} hosts, record target")
            proj = project(work / "project-preview")
            settings = settings_for(big, work / "state-preview")
            t = time.monotonic()
            plan = fleet_run("preview", settings, FleetOptions(
                environment="bench", project_dir=proj, parallel=args.parallel))
            figures["preview_all"] = time.monotonic() - t
            say(f"  preview of every stack ({len(plan.runs)} stacks, {plan.changes} resources), "
                f"--parallel {args.parallel}: {figures['preview_all']:.1f} s  (target < 60 s)")
            if not args.skip_single:
                t = time.monotonic()
                single = single_run("preview", settings, proj, "bench")
                figures["preview_single"] = time.monotonic() - t
                say(f"  the same as one single stack ({single.totals['create']} resources): "
                    f"{figures['preview_single']:.1f} s")
            if args.only_preview:
                say("summary: " + ", ".join(f"{k} {v:.1f} s" for k, v in figures.items()))
                return 0
            say("1. plan of one tenant after a change to its file (target < 5 s, independent "
                "of the number of tenants)")
            figures["plan_one_sample"] = part_plan_one(work, sample(work / "sample-record"),
                                                       "sample (9 tenants)", args.parallel)
            figures["plan_one_big"] = part_plan_one(work, big, f"synthetic ({args.tenants} tenants)",
                                                    args.parallel)

        say("3. apply of every sample tenant: single stack vs per-tenant stacks (target >= 2x)")
        figures["record_single"], figures["record_per-tenant"] = apply_side_by_side(
            work, sample(work / "sample-apply"), args.parallel, "apply", "sample")
        if args.big_apply:
            figures["big_single"], figures["big_per-tenant"] = apply_side_by_side(
                work, big, args.parallel, "big", "synthetic company")
        if not args.skip_lab:
            figures["lab_single"], figures["lab_per-tenant"] = part_apply_lab(
                work, args.parallel, args.lab_repeat)
    say("summary: " + ", ".join(f"{k} {v:.1f} s" for k, v in figures.items())
        + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
