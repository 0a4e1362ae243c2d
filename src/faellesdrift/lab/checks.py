"""Checks and probes: can this machine run the lab, is a plan sound, is a port/sshd up."""

from __future__ import annotations

import os
import socket
from ipaddress import IPv4Network
from pathlib import Path

from faellesdrift.lab import cgroups
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.sh import require
from faellesdrift.lab.spec import LabPlan


def preflight(paths: LabPaths, servers_needed: bool = True) -> None:
    """Fail early, in one line, when this machine cannot run the lab."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts, cgroups): "
                       "run it as root, e.g. `sudo -E faellesdrift lab up`")
    require("ip", "ssh-keygen")
    if servers_needed:
        require("systemd-nspawn", "mount", "tar", "zstd")
        cgroups.roots()
        if "overlay" not in Path("/proc/filesystems").read_text():
            raise LabError("the kernel has no overlay filesystem: `modprobe overlay` "
                           "(the lab's servers are overlays on one base image)")


INOTIFY_PER_SERVER = 8  # systemd, journald, logind, dbus, ... in each container (measured: 7)


def check_inotify(servers_wanted: int) -> None:
    """Each container's systemd needs inotify instances, all counted against root's limit."""
    key = Path("/proc/sys/fs/inotify/max_user_instances")
    try:
        have = int(key.read_text())
    except (OSError, ValueError):
        return
    need = INOTIFY_PER_SERVER * servers_wanted + 128
    if have < need:
        raise LabError(f"fs.inotify.max_user_instances is {have}; {servers_wanted} servers need "
                       f"about {need}: run scripts/lab-prereqs.sh (or sysctl -w "
                       f"fs.inotify.max_user_instances={max(need, 8192)})")


def check_plan(plan: LabPlan) -> None:
    seen: dict[IPv4Network, str] = {}
    for seg in plan.segments:
        for p in seg.prefixes:
            clash = next((o for o, n in seen.items() if o.overlaps(p) and n != seg.name), None)
            if clash is not None:
                raise LabError(f"segments {seen[clash]} ({clash}) and {seg.name} ({p}) overlap:"
                               " the lab router cannot keep them apart")
            seen[p] = seg.name




def bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def listening_ports() -> set[int]:
    """TCP ports listening on 127.0.0.1 or any address (from /proc/net/tcp)."""
    found = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        addr, port = fields[1].split(":")
        if fields[3] == "0A" and addr in ("0100007F", "00000000"):
            found.add(int(port, 16))
    return found


def ssh_banner(host: str, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, 22), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "empty log"
