"""Discovery at scale: 200 lab devices and 50 lab servers in one `faellesdrift discover` run.

A copy of the sample community gets one more municipality (766 Hedensted) imported from a
generated asset list of 200 network devices (cisco_ios, arista_eos, juniper_junos in turn)
and 50 Debian servers; the lab brings up exactly those, and discovery reads every one of
them at the default parallelism (devices: netmiko through Nornir, servers: Ansible facts).
It prints the time, what was found and the limit (60 s).

Run as root:  .venv/bin/python benchmarks/discover.py [--devices 200] [--servers 50] [-o json]
It uses its own lab prefix (fddb), ports and loopback range, state in a temp dir, and
takes its lab down at the end. Hold the shared lab lock: flock /tmp/fd-lab.lock …
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from ipaddress import IPv4Network
from pathlib import Path

from faellesdrift.estate import load_estate
from faellesdrift.importing.discover import DEFAULT_WORKERS, run_discover
from faellesdrift.importing.run import run_import
from faellesdrift.lab import Lab, LabPaths, LabSettings, cache_dir
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = LabSettings(prefix="fddb", device_ports=(44000, 44299),
                       loopback=IPv4Network("127.59.0.0/16"), ready_timeout=300)
LIMIT_S = 60.0
PLATFORMS = ("cisco_ios", "arista_eos", "juniper_junos")


def _asset_list(path: Path, devices: int, servers: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Værtsnavn", "IP-adresse", "Type", "Platform", "Styresystem", "Rolle",
                    "Lokation", "Porte", "vCPU", "RAM", "Disk"])
        for i in range(devices):
            w.writerow([f"hed-sw{i:03d}", f"10.66.{i // 200}.{i % 200 + 10}", "switch",
                        PLATFORMS[i % 3], "", "access", "Rådhuset", 24, "", "", ""])
        for i in range(servers):
            w.writerow([f"hed-srv{i:03d}", f"10.66.10.{i + 10}", "server", "", "Debian 12",
                        "app", "", "", 2, 4, 50])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--servers", type=int, default=50)
    ap.add_argument("-o", "--output", choices=["table", "json"], default="table")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the lab needs namespaces and mounts")
    tmp = Path(tempfile.mkdtemp(prefix="fd-discover-bench-"))
    root, state = tmp / "community", tmp / "state"
    root.mkdir()
    shutil.copy(ROOT / "community.yaml", root)
    shutil.copytree(ROOT / "tenants", root / "tenants")
    os.environ["FAELLESDRIFT_STATE"] = str(state)
    settings = Settings(root=root, state_dir=state, cache_dir=cache_dir())
    listing = tmp / "hedensted.csv"
    _asset_list(listing, args.devices, args.servers)
    imported = run_import(root, "766", listing, population=47000, today=_today(),
                          dry_run=False)
    if not imported.written:
        sys.exit(f"the generated asset list did not import: {imported.findings[:3]}")
    lab = Lab(LabPaths(root=state / "lab", cache=cache_dir() / "lab"), SETTINGS)
    lab.down()
    figures: dict = {}
    try:
        start = time.monotonic()
        lab.up(plan_from_estate(load_estate(root, _today()), tenants=["hedensted"]))
        figures["lab_up_s"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        result = run_discover(settings, "766", mode="lab", today=_today(), dry_run=True)
        figures["discover_s"] = round(time.monotonic() - start, 1)
    finally:
        lab.down(reset=True)
        shutil.rmtree(tmp, ignore_errors=True)
    found = [f for f in result.found if f.status == "found"]
    figures.update({
        "devices": args.devices, "servers": args.servers, "workers": DEFAULT_WORKERS,
        "devices_found": sum(f.kind == "network_device" for f in found),
        "servers_found": sum(f.kind == "server" for f in found),
        "not_found": [f"{f.target.name}: {f.reason}" for f in result.found
                      if f.status != "found"][:10],
        "per_device_s_median": _median([f.seconds for f in found
                                        if f.kind == "network_device"]),
        "limit_s": LIMIT_S, "within_limit": figures["discover_s"] < LIMIT_S,
    })
    if args.output == "json":
        print(json.dumps(figures, indent=2))
        return
    print(f"lab up ({args.devices} devices, {args.servers} servers): {figures['lab_up_s']} s")
    print(f"discover: {figures['discover_s']} s for {figures['devices_found']}/{args.devices} "
          f"devices and {figures['servers_found']}/{args.servers} servers "
          f"(workers {DEFAULT_WORKERS}; median {figures['per_device_s_median']} s per device)")
    print(f"limit {LIMIT_S:.0f} s: {'met' if figures['within_limit'] else 'NOT met'}")
    for line in figures["not_found"]:
        print(f"  not found: {line}")


def _today():
    from faellesdrift import clock

    return clock.today()


def _median(values: list[float]) -> float:
    import statistics

    return round(statistics.median(values), 2) if values else 0.0


if __name__ == "__main__":
    main()
