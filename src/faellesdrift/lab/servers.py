"""Servers: systemd-nspawn booting Debian on an overlay, in a network namespace of their own.

Per server <name> (prefix p, index i):
  <state>/lab/servers/<name>/{upper,work,root}  overlay on the cached base image
  netns p-srv-<name>, eth0 = veth peer of p h<i> on the tenant's bridge
  cgroup dir p-srv-<name> in each hierarchy (nspawn runs with --keep-unit)
The overlay's upper dir (the server's disk, host key included) outlives
`lab down`; `--reset` or delete_server removes it.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from faellesdrift.lab import cgroups, keys, netns, procs, server_drift
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.segments import Names
from faellesdrift.lab.sh import run
from faellesdrift.lab.spec import ServerSpec

NSPAWN_SCRIPT = """\
for dir in $CGROUP_DIRS; do mkdir -p "$dir" && echo $$ > "$dir/cgroup.procs" || exit 1; done
exec env SYSTEMD_NSPAWN_API_VFS_WRITABLE=network systemd-nspawn -q -b --keep-unit \
  --register=no "--network-namespace-path=/run/netns/$NETNS" -D "$ROOT" -M "$MACHINE" \
  --console=passive --link-journal=no --resolv-conf=off --timezone=off
"""


@dataclass(frozen=True)
class ServerContext:
    names: Names
    paths: LabPaths
    base: Path  # unpacked base image (overlay lower dir)
    bridge: str  # the tenant segment's bridge in the router namespace
    gateway: IPv4Address
    dns: tuple[IPv4Address, ...]


def marker(names: Names, server: str) -> str:
    """The argument that identifies the server's nspawn process among all processes."""
    return f"--network-namespace-path=/run/netns/{names.server_ns(server)}"


def discover_marker(names: Names) -> str:
    """Argument prefix shared by every nspawn process of this lab (crash clean-up)."""
    return f"--network-namespace-path=/run/netns/{names.server_ns('')}"


def create(ctx: ServerContext, spec: ServerSpec, index: int, record: dict) -> dict:
    """Make (or repair) the server and start it; returns its state record."""
    names, home = ctx.names, ctx.paths.server_dir(spec.name)
    ns = names.server_ns(spec.name)
    _network(names, ns, spec.address, index, ctx.gateway, ctx.bridge)
    root = _overlay(ctx.base, home)
    host_key = _personalise(ctx, spec, root)
    server_drift.plant(root, spec.deviations)
    pid = record.get("pid")
    if not procs.alive(pid, marker(names, spec.name)):
        cgroups.remove(ns)
        dirs = " ".join(str(d) for d in cgroups.dirs(ns))
        # The marker is an argument of the shell too (its $1), so the process carries it
        # from the spawn on, not only after the shell's exec of systemd-nspawn.
        pid = procs.spawn(["sh", "-c", NSPAWN_SCRIPT, "faellesdrift-lab-server",
                           marker(names, spec.name)],
                          ctx.paths.logs / f"server-{spec.name}.log",
                          env={"CGROUP_DIRS": dirs, "NETNS": ns, "ROOT": str(root),
                               "MACHINE": spec.name})
    return {"tenant": spec.tenant, "address": str(spec.address), "index": index, "netns": ns,
            "veth": names.server_veth(index), "root": str(root), "pid": pid,
            "host_key": host_key, "deviations": list(spec.deviations)}


def _network(names: Names, ns: str, address: IPv4Interface, index: int, gw: IPv4Address,
             bridge: str) -> None:
    netns.add(ns)
    veth = names.server_veth(index)
    if veth not in netns.links(names.router):
        if "eth0" in netns.links(ns):
            netns.ip(ns, "link", "del", "eth0")
        netns.ip(names.router, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                 "netns", ns)
    netns.ip_batch(names.router, [f"link set {veth} master {bridge}", f"link set {veth} up"])
    netns.ip_batch(ns, [f"addr replace {address} dev eth0", "link set eth0 up",
                        f"route replace default via {gw}"])


def _mounted(target: Path) -> bool:
    mounts = Path("/proc/self/mountinfo").read_text()
    return any(line.split()[4] == str(target) for line in mounts.splitlines())


def _overlay(base: Path, home: Path) -> Path:
    root = home / "root"
    if _mounted(root):
        return root
    for sub in ("upper", "work", "root"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={base},upperdir={home / 'upper'},workdir={home / 'work'}", str(root)])
    return root


def _personalise(ctx: ServerContext, spec: ServerSpec, root: Path) -> str:
    """Identity (first boot only) and access (every start); returns the host public key."""
    key = root / "etc/ssh/ssh_host_ed25519_key"
    if not key.exists():
        keys.new_host_key(key, f"root@{spec.name}")
        (root / "etc/machine-id").write_text(uuid.uuid4().hex + "\n")
        (root / "etc/hostname").write_text(spec.name + "\n")
        (root / "etc/hosts").write_text(
            f"127.0.0.1\tlocalhost\n{spec.address.ip}\t{spec.name}\n")
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(keys.public_key(ctx.paths.operator_key) + "\n")
    (ssh_dir / "authorized_keys").chmod(0o600)
    resolv = root / "etc/resolv.conf"
    resolv.unlink(missing_ok=True)
    resolv.write_text("".join(f"nameserver {a}\n" for a in ctx.dns[:3]))
    return keys.public_key(key)


def stop(names: Names, paths: LabPaths, name: str, record: dict) -> None:
    """Stop the container, unmount, remove its netns and cgroup dirs. Keeps its disk."""
    mark = marker(names, name)
    pids = {p for p in [record.get("pid")] if p} | set(procs.find(mark))  # exact argument
    procs.stop(pids, lambda pid: procs.alive(pid, mark))
    ns = names.server_ns(name)
    cgroups.remove(ns)
    root = paths.server_dir(name) / "root"
    if _mounted(root):
        run(["umount", str(root)], check=False)
        if _mounted(root):
            run(["umount", "-l", str(root)])
    netns.delete(ns)


def wipe(paths: LabPaths, name: str) -> None:
    home = paths.server_dir(name)
    if home.exists():
        if _mounted(home / "root"):
            raise LabError(f"server {name} is still mounted at {home / 'root'}; stop it first")
        shutil.rmtree(home)
