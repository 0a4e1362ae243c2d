"""Validate a synthetic whole-Denmark estate and compare with a bare YAML parse.

98 tenants (every municipality code) sized by a synthetic population curve,
about 100,000 servers + network devices in all. Prints the time of a bare
C-loader parse and of the yaml-rs parse faellesdrift itself uses, the time of
faellesdrift's load + schema + guardrails, and the ratios — medians of several runs, the
yaml-rs parse and the validation interleaved run by run.
Targets: under 1.5 s, within 2x of the yaml-rs parse.
Run: .venv/bin/python benchmarks/validate_scale.py
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml
import yaml_rs

from faellesdrift import clock
from faellesdrift.estate import validate
from faellesdrift.municipalities import municipalities

REPO = Path(__file__).resolve().parents[1]
TODAY = clock.today()
PLATFORMS = ("cisco_ios", "arista_eos", "juniper_junos")


def populations() -> dict[str, int]:
    codes = sorted(municipalities())
    return {c: max(1800, int(640_000 / (i + 1) ** 0.85)) for i, c in enumerate(codes)}


def write_estate(root: Path, total_hosts: int) -> int:
    pops = populations()
    scale = total_hosts / sum(pops.values())
    std = (REPO / "community.yaml").read_text(encoding="utf-8")
    head, _, rest = std.partition("pools:")
    rest = rest[rest.index("shared_services:"):]
    pools = "".join(f"  t{c}: 10.{i}.0.0/16\n" for i, c in enumerate(sorted(pops)))
    rest = rest.replace("  per_tenant:\n    aarhus: {vcpu: 400, memory_gb: 1600, disk_gb: 60000}\n",
                        "")
    rest = rest.replace("default: {vcpu: 200, memory_gb: 800, disk_gb: 20000}",
                        "default: {vcpu: 200000, memory_gb: 800000, disk_gb: 90000000}")
    (root / "community.yaml").write_text(head + "pools:\n" + pools + rest, encoding="utf-8")
    tenants = root / "tenants"
    tenants.mkdir()
    written = 0
    for i, (code, pop) in enumerate(sorted(pops.items())):
        m = municipalities()[code]
        hosts = max(6, round(pop * scale))
        n_dev = max(4, hosts // 4)
        n_srv = hosts - n_dev
        lines = [
            f'code: "{code}"', f"slug: t{code}", f"name: {m.name}", f"population: {pop}",
            "contacts:", f"  it_lead: {{name: IT {code}, email: it@t{code}.example.dk}}",
            f"  security: {{name: Sec {code}, email: sec@t{code}.example.dk}}",
            ("scope: {servers: shared, network: shared, endpoints: {mode: planned, from: "
             + str(TODAY + timedelta(days=3 * 365)) + "},"
             " identities: {mode: local, security_control: Local AD}, monitoring: shared,"
             " backup: shared}"),
            "networks:",
            f"  - {{name: devices, vlan: 100, prefix: 10.{i}.0.0/18}}",
            f"  - {{name: servers, vlan: 110, prefix: 10.{i}.64.0/18}}",
            "servers:",
        ]
        for s in range(n_srv):
            lines.append(
                f"  - {{name: t{code}-srv{s:05d}, address: 10.{i}.{64 + s // 250}.{s % 250 + 2},"
                " os: debian12, role: app, vcpu: 2, memory_gb: 8, disk_gb: 100}")
        lines.append("network_devices:")
        for d in range(n_dev):
            lines.append(
                f"  - {{name: t{code}-dev{d:05d}, platform: {PLATFORMS[d % 3]},"
                f" address: 10.{i}.{d // 250}.{d % 250 + 2}, role: access, site: Site {d % 7},"
                " ports: 48}")
        lines += [
            "endpoints: {count: 100}", "identities: {count: 100}",
            "exceptions:",
            (f"  - {{id: T{code}-EX-001, control: net.ntp.servers, hosts: [t{code}-dev00000],"
            f" value: [10.{i}.0.123], category: waiver, justification: Local clock,"
            " risk_owner: IT, approved_by: Board,"
             f" approved_on: {TODAY - timedelta(days=90)}, expires: {TODAY + timedelta(days=270)}}}"),
            "contracts: []",
            f"onboarding: {{wave: 1, target: {TODAY + timedelta(days=180)}}}",
        ]
        (tenants / f"t{code}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written += n_srv + n_dev
    return written


def bare_parse(root: Path) -> float:
    start = time.perf_counter()
    for path in sorted((root / "tenants").glob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return time.perf_counter() - start


def bare_parse_rs(root: Path) -> float:
    start = time.perf_counter()
    for path in sorted((root / "tenants").glob("*.yaml")):
        yaml_rs.loads(path.read_text(encoding="utf-8"))
    return time.perf_counter() - start


def full_validate(root: Path) -> float:
    start = time.perf_counter()
    result = validate(root, TODAY)
    elapsed = time.perf_counter() - start
    errors = [f.one_line() for f in result.findings if f.severity == "error"]
    assert result.ok, errors[:5]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100_000, help="servers + devices in all")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the median counts")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fd-bench-"))
    try:
        hosts = write_estate(root, args.hosts)
        size = sum(p.stat().st_size for p in (root / "tenants").glob("*.yaml"))
        print(f"estate: 98 tenants, {hosts} servers + devices, {size / 1e6:.1f} MB of YAML")
        bare = statistics.median(bare_parse(root) for _ in range(args.repeat))
        # interleaved, so a burst of load on a shared machine hits both sides of a ratio
        pairs = [(bare_parse_rs(root), full_validate(root)) for _ in range(args.repeat)]
        bare_rs = statistics.median(p[0] for p in pairs)
        ours = statistics.median(p[1] for p in pairs)
        ratio = statistics.median(p[1] / p[0] for p in pairs)
        print(f"medians of {args.repeat} runs")
        print(f"bare YAML parse (PyYAML CSafeLoader):   {bare:6.2f} s")
        print(f"bare YAML parse (yaml-rs, what we use): {bare_rs:6.2f} s")
        print(f"faellesdrift load + schema + guardrails:  {ours:6.2f} s")
        print(f"ratio: {ratio:.2f}x the yaml-rs parse (median of the paired runs; target <= 2x), "
              f"{ours / bare:.2f}x the PyYAML parse; "
              f"{'under' if ours < 1.5 else 'OVER'} the 1.5 s target")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
