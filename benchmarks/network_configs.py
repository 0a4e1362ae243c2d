"""Redaction and compliance of big configs: prints medians of several runs.

    .venv/bin/python benchmarks/network_configs.py [--mb 5] [--runs 5]

Builds, per platform, a config of about ``--mb`` megabytes from the real-world
corpus (tests/network/realworld/): the corpus configs of that platform, each
repeated with its interfaces, secrets and names renumbered so nothing is a
plain copy. Times:

  redact      for_backup(text, platform, key): the text a backup commits
  compliance  check(spec, text, intended): parse + compare with the intended config
  blank lines redaction of 40,000 blank lines around one secret (was quadratic)

Targets: redaction of 5 MB under 1 s, compliance of 5 MB under 3 s.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from faellesdrift.estate import Estate, load_estate
from faellesdrift.network.compliance import check
from faellesdrift.network.configtext import decode_config, unix_lines
from faellesdrift.network.intended import render
from faellesdrift.network.platforms import PLATFORMS, platform_spec
from faellesdrift.network.redact import for_backup

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "network" / "realworld"
KEY = b"benchmark-key"


def big_config(platform: str, size: int) -> str:
    """About ``size`` bytes of config built from the corpus configs of one platform."""
    samples = [unix_lines(decode_config(p.read_bytes()))
               for p in sorted((CORPUS / platform).glob("*.cfg"))]
    parts: list[str] = []
    total, n = 0, 0
    while total < size:
        for text in samples:
            n += 1
            # renumber: every copy is a different device section, secrets differ too
            copy = (text.replace("Ethernet1", f"Ethernet{n}")
                    .replace("GigabitEthernet0/", f"GigabitEthernet{n}/")
                    .replace("-Comm-", f"-Comm{n}-").replace("Key", f"Key{n}")
                    .replace("ge-0/0/", f"ge-{n}/0/").replace("KC", f"KC{n}")
                    .replace("1/1/", f"1/{n}/").replace('edit "', f'edit "{n}-'))
            if platform == "juniper_junos" and "{" in copy:
                continue  # one Junos device prints one form; the set-form samples are used
            parts.append(copy)
            total += len(copy)
            if total >= size:
                break
    return "\n".join(parts)


def estate_with_every_platform(workdir: Path) -> Estate:
    """The sample estate, plus one device of each platform the sample tenants do not run."""
    shutil.copy(ROOT / "community.yaml", workdir / "community.yaml")
    shutil.copytree(ROOT / "tenants", workdir / "tenants")
    estate = load_estate(workdir, date.today())
    have = {h.spec.platform for h in estate.hosts("network_device")}
    odder = workdir / "tenants" / "odder.yaml"
    lines = odder.read_text(encoding="utf-8").split("\n")
    at = lines.index("network_devices:") + 1
    for i, platform in enumerate(sorted(set(PLATFORMS) - have)):
        lines.insert(at, f"  - {{name: odd-bench{i}, platform: {platform}, "
                         f"address: 10.27.0.{200 + i}, role: access, site: Bench, ports: 8}}")
    odder.write_text("\n".join(lines), encoding="utf-8")
    return load_estate(workdir, date.today())


def median_seconds(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``runs`` calls (CPU: this process only)."""
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()  # garbage of the previous run is not this run's cost
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    size = int(args.mb * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as workdir:
        estate = estate_with_every_platform(Path(workdir))
    devices = estate.hosts("network_device")
    print(f"config size {args.mb:g} MB, median of {args.runs} runs, seconds wall (cpu)")
    print(f"{'platform':<15}{'lines':>9}{'redact':>18}{'compliance':>18}")
    worst_redact = worst_check = 0.0
    for platform in PLATFORMS:
        text = big_config(platform, size)
        lines = text.count("\n") + 1
        r_wall, r_cpu = median_seconds(lambda t=text, p=platform: for_backup(t, p, KEY),
                                       args.runs)
        worst_redact = max(worst_redact, r_wall)
        check_cell = "n/a"
        if platform in PLATFORMS:
            host = next(h for h in devices if h.spec.platform == platform)
            spec, intended = platform_spec(platform), render(estate, host)
            c_wall, c_cpu = median_seconds(lambda t=text, s=spec, i=intended: check(s, t, i),
                                           args.runs)
            worst_check = max(worst_check, c_wall)
            check_cell = f"{c_wall:.3f} ({c_cpu:.3f})"
        print(f"{platform:<15}{lines:>9}{f'{r_wall:.3f} ({r_cpu:.3f})':>18}{check_cell:>18}")
    blank = "\n" * 40_000 + "enable secret 5 $1$q$w\n" + "\n" * 40_000
    b_wall, b_cpu = median_seconds(lambda: for_backup(blank), args.runs)
    print(f"40,000 blank lines around a secret: redact {b_wall:.3f} ({b_cpu:.3f})")
    ok = worst_redact < 1.0 and worst_check < 3.0
    print(f"targets (redact < 1 s, compliance < 3 s, wall clock): {'met' if ok else 'NOT met'} "
          f"(worst redact {worst_redact:.3f} s, worst compliance {worst_check:.3f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
