"""Finding and removing everything a lab made — from its record, and by name after a crash.

Discovery by exact name, never by bare prefix (labs "fd" and "fdsv" may run side by
side): network namespaces and cgroup directories named "<p>-…", lab processes
(nspawn and its launching shell with --network-namespace-path=/run/netns/<p>-srv-…,
the lab daemons with the argument --prefix=<p> exactly) and overlay mounts under
the lab's servers dir.
Deleting the namespaces removes every veth and bridge: the lab never puts a
link in the host's namespace.
"""

from __future__ import annotations

from pathlib import Path

from faellesdrift.lab import cgroups, netns, procs, servers
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.records import Leftovers
from faellesdrift.lab.segments import Names
from faellesdrift.lab.sh import run


def daemon_marker(prefix: str) -> str:
    return f"--prefix={prefix}"


def lab_mounts(paths: LabPaths) -> list[str]:
    under = str(paths.servers) + "/"
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(under):
            found.append(point)
    return found


def leftovers(paths: LabPaths, names: Names) -> Leftovers:
    daemons = procs.find(daemon_marker(names.prefix))
    containers = procs.find(servers.discover_marker(names), prefix=True)
    return Leftovers(
        netns=tuple(netns.names(names.prefix)),
        cgroups=tuple(cgroups.names(names.prefix)),
        mounts=tuple(lab_mounts(paths)),
        processes=tuple(sorted(set(daemons) | set(containers))),
    )


def teardown(paths: LabPaths, names: Names, recorded_pids: list[int]) -> Leftovers:
    """Stop and remove everything; returns what could not be removed (normally nothing)."""
    daemon = daemon_marker(names.prefix)
    container = servers.discover_marker(names)
    pids = (set(recorded_pids) | set(procs.find(daemon))
            | set(procs.find(container, prefix=True)))

    def ours(pid: int) -> bool:
        return procs.alive(pid, daemon) or procs.alive_like(pid, container)

    procs.stop(sorted(pids), ours, timeout=15)  # all at once: containers stop in parallel
    for point in sorted(lab_mounts(paths), key=len, reverse=True):
        run(["umount", point], check=False)
        if point in lab_mounts(paths):
            run(["umount", "-l", point], check=False)
    for name in cgroups.names(names.prefix):
        cgroups.remove(name)
    for ns in netns.names(names.prefix):
        netns.delete(ns)
    return leftovers(paths, names)
