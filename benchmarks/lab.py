"""The lab's limits, measured.

1. cold: 3 tenants x 2 servers + their devices, base image built from scratch
   (a fresh, empty cache dir: debootstrap + pack) — target < 2 min;
2. warm: the same from a fresh state dir with the cached image tarball (unpack
   included) — target < 30 s; then a second `up` (nothing to do) and `down`;
3. fleet: every device of the sample community at once, Nornir push + verify
   with netmiko at 20, 30 and 50 workers — target: no timeouts.

Run as root:  .venv/bin/python benchmarks/lab.py [--skip-cold] [--skip-fleet]
It uses its own prefix (fdb), ports and loopback range, and cleans up after itself.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from ipaddress import IPv4Network
from pathlib import Path

from faellesdrift.estate import load_estate
from faellesdrift.lab import Lab, LabPaths, LabSettings, cache_dir
from faellesdrift.lab.keys import credentials
from faellesdrift.lab.plan import plan_from_estate

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = LabSettings(prefix="fdb", device_ports=(46500, 46699),
                       loopback=IPv4Network("127.50.0.0/16"), ready_timeout=300)
SMALL = ["samsoe", "odder", "favrskov"]


def timed(label: str, fn) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    fn()
    took = time.monotonic() - start
    print(f"{label:<58} {took:7.1f} s", flush=True)
    return took


def fleet(lab: Lab, workers: int) -> tuple[int, float, list[str]]:
    from nornir.core import Nornir
    from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
    from nornir.core.plugins.connections import ConnectionPluginRegister
    from nornir.core.task import Result, Task
    from nornir.plugins.runners import ThreadedRunner
    from nornir_netmiko.tasks import netmiko_commit, netmiko_send_command, netmiko_send_config

    ConnectionPluginRegister.auto_register()
    creds = credentials(lab.paths)
    hosts = Hosts({d.name: Host(d.name, hostname=d.host, port=d.port, platform=d.platform,
                                username=creds.username, password=creds.password)
                   for d in lab.status().devices})
    nr = Nornir(inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
                runner=ThreadedRunner(num_workers=workers))
    marker = f"10.250.0.{100 + workers}"

    def push_verify(task: Task) -> Result:
        try:
            if task.host.platform == "juniper_junos":
                task.run(netmiko_send_config, config_commands=[f"set system ntp server {marker}"],
                         exit_config_mode=False)
                task.run(netmiko_commit)
                out = task.run(netmiko_send_command,
                               command_string="show configuration | display set").result
            else:
                task.run(netmiko_send_config, config_commands=[f"ntp server {marker}"])
                out = task.run(netmiko_send_command, command_string="show running-config",
                               enable=True).result
            return Result(host=task.host, result=marker in out, failed=marker not in out)
        finally:
            task.host.close_connections()

    start = time.monotonic()
    result = nr.run(task=push_verify)
    return len(hosts), time.monotonic() - start, sorted(h for h, r in result.items() if r.failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-fleet", action="store_true")
    args = parser.parse_args()
    estate = load_estate(ROOT)
    small = plan_from_estate(estate, servers_per_tenant=2, tenants=SMALL)
    print(f"plan: {len(small.tenants)} tenants, {len(small.servers)} servers, "
          f"{len(small.devices)} devices")
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as tmp:
        if not args.skip_cold:
            cold = Lab(LabPaths(root=Path(tmp) / "cold" / "lab", cache=Path(tmp) / "cache"),
                       SETTINGS)
            cold.down()
            timed("cold up (empty cache: debootstrap + pack + boot)", lambda: cold.up(small))
            timed("down", lambda: cold.down(reset=True))
        warm_cache = cache_dir() / "lab"
        warm = Lab(LabPaths(root=Path(tmp) / "warm" / "lab", cache=warm_cache), SETTINGS)
        warm.down()
        for unpacked in warm_cache.glob("rootfs-*"):
            if not any(str(unpacked) in ln for ln in Path("/proc/mounts").read_text().splitlines()
                       ) and any(warm_cache.glob("base-*.tar.zst")):
                shutil.rmtree(unpacked)  # measure the unpack too (unless another lab uses it)
        timed("warm up (cached tarball, fresh state dir)", lambda: warm.up(small))
        timed("second up (everything already up)", lambda: warm.up(small))
        timed("down", lambda: warm.down(reset=True))
        if not args.skip_fleet:
            every = plan_from_estate(estate, servers_per_tenant=0)
            timed(f"fleet up: all {len(every.devices)} devices of the sample community",
                  lambda: warm.up(every))
            for workers in (20, 30, 50):
                count, took, failed = fleet(warm, workers)
                print(f"{f'push+verify {count} devices, {workers} workers':<58} {took:7.1f} s"
                      f"  ({count / took:.0f} devices/s, failed: {failed or 'none'})",
                      flush=True)
            timed("down", lambda: warm.down(reset=True))


if __name__ == "__main__":
    main()
