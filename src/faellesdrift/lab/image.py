"""The servers' base image: debootstrapped Debian, built once per recipe, cached as tar.zst.

Cache layout (under <cache>/lab):
  base-<hash>.tar.zst   the image, shareable between machines and clones
  rootfs-<hash>/        the unpacked image, the read-only lower layer of every overlay
A changed recipe gives a new hash, so a stale image is never used.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from faellesdrift.lab import security_repo
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.sh import require, run

Progress = Callable[[str], None]

SUITE = "bookworm"
INCLUDE = ("openssh-server", "python3", "python3-apt", "iproute2", "procps", "sudo", "chrony",
           "rsyslog", "systemd", "systemd-sysv", "dbus")
# Units that only cost boot time in a lab container without network or timers.
MASK = ("apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "e2scrub_all.timer",
        "e2scrub_reap.service", "fstrim.timer", "dpkg-db-backup.timer",
        "systemd-networkd-wait-online.service", "getty@tty1.service", "console-getty.service")
SSHD_CONFIG = """\
# faellesdrift lab: each server gets its own host key at creation
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""
POST_VERSION = 1  # bump when customise() changes


def recipe() -> dict[str, object]:
    return {"suite": SUITE, "variant": "minbase", "include": list(INCLUDE), "mask": list(MASK),
            "sshd": SSHD_CONFIG, "post": POST_VERSION, "security_suite": security_repo.recipe()}


def recipe_hash() -> str:
    blob = json.dumps(recipe(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def tarball(paths: LabPaths) -> Path:
    return paths.cache / f"base-{recipe_hash()}.tar.zst"


def rootfs(paths: LabPaths) -> Path:
    return paths.cache / f"rootfs-{recipe_hash()}"


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses ($FAELLESDRIFT_DEBIAN_MIRROR overrides)."""
    env = os.environ.get("FAELLESDRIFT_DEBIAN_MIRROR")
    if env:
        return env
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for src in sources:
        try:
            text = src.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for uri, suites in _entries(text):
            if SUITE in suites and "security" not in uri:
                return uri
    return "http://deb.debian.org/debian"


def _entries(text: str) -> list[tuple[str, list[str]]]:
    """(uri, suites) from a one-line .list or a deb822 .sources file."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if m:
            found.append((m.group(1), [m.group(2)]))
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, flags=re.MULTILINE))
        if "deb" in fields.get("Types", "").split() and "URIs" in fields:
            for uri in fields["URIs"].split():
                found.append((uri, fields.get("Suites", "").split()))
    return found


def ensure_base(paths: LabPaths, progress: Progress = lambda _: None) -> Path:
    """The unpacked base image for the current recipe: reuse, unpack or build it.

    The cache is shared by every lab and clone on the machine: a lock makes a
    second caller wait for the first build instead of building again.
    """
    root = rootfs(paths)
    if (root / ".faellesdrift-complete").exists():
        return root
    require("tar", "zstd")
    paths.cache.mkdir(parents=True, exist_ok=True)
    with open(paths.cache / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / ".faellesdrift-complete").exists():
            return root
        work = paths.cache / f".work-{recipe_hash()}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            if tarball(paths).exists():
                progress(f"unpacking cached base image {tarball(paths).name}")
                _unpack(tarball(paths), work)
            else:
                build(work, progress)
                progress(f"caching base image as {tarball(paths).name}")
                _pack(work, tarball(paths))
            (work / ".faellesdrift-complete").write_text(json.dumps(recipe()) + "\n")
            if root.exists() and not _in_use(root):  # an unfinished earlier attempt
                shutil.rmtree(root)
            os.replace(work, root)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _forget_old(paths)
    return root


def build(target: Path, progress: Progress = lambda _: None) -> None:
    """debootstrap, the lab's security suite (security_repo) and customise into target (which
    must not exist)."""
    require("debootstrap")
    mirror = debian_mirror()
    progress(f"building base image: debootstrap {SUITE} from {mirror} (about a minute)")
    start = time.monotonic()
    run(["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}",
         SUITE, str(target), mirror], timeout=1200)
    progress(f"lab security suite: {security_repo.PACKAGE} "
             f"{security_repo.build(target)} in {security_repo.SUITE}")
    customise(target)
    progress(f"base image built in {time.monotonic() - start:.0f} s")


def customise(root: Path) -> None:
    """Make the image a template: no shared identity, quick to boot in a container."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/ssh/sshd_config.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/ssh/sshd_config.d/50-faellesdrift-lab.conf").write_text(SSHD_CONFIG)
    (root / "etc/machine-id").write_text("")  # each server writes its own
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for unit in MASK:
        link = root / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def _pack(root: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    run(["tar", "-C", str(root), "--numeric-owner", "--xattrs", "--xattrs-include=*",
         "-I", "zstd -T0 -3 -q", "-cf", str(tmp), "."], timeout=600)
    os.replace(tmp, dest)


def _unpack(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    run(["tar", "-C", str(dest), "--numeric-owner", "--xattrs", "--xattrs-include=*",
         "-I", "zstd -T0 -q", "-xpf", str(src)], timeout=600)


def _forget_old(paths: LabPaths) -> None:
    """Remove images of older recipes (an overlay still using one keeps it open)."""
    current = recipe_hash()
    for entry in paths.cache.glob("rootfs-*"):
        if not entry.name.endswith(current) and not _in_use(entry):
            shutil.rmtree(entry, ignore_errors=True)
    for entry in paths.cache.glob("base-*.tar.zst"):
        if current not in entry.name:
            entry.unlink(missing_ok=True)


def _in_use(root: Path) -> bool:
    try:
        mounts = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return True
    return f"lowerdir={root}" in mounts
