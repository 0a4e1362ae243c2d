"""Known ways lab servers start behind on patching, as the devices start with known drift.

A real estate always has a few servers with a security fix waiting or a reboot
due. The lab plants both, on servers chosen by position (``choose``), so
``faellesdrift servers facts`` has something true to find:

- ``SECURITY_UPDATE``: the server's apt knows the lab's security suite
  (``security_repo``: a newer ``sudo`` in a repository labelled Debian-Security,
  already in the image's package lists); apt's own simulated upgrade then lists it;
- ``REBOOT_REQUIRED``: at boot, systemd-tmpfiles writes /run/reboot-required and
  /run/reboot-required.pkgs, the files Debian's package hooks write when an
  installed update (here: the C library) only takes effect after a restart.

Planting writes files on the server's own disk (its overlay) before it boots; it
is idempotent and leaves the base image alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from faellesdrift.lab import security_repo
from faellesdrift.lab.errors import LabError

SECURITY_UPDATE = "pending security update"
REBOOT_REQUIRED = "reboot required"
KINDS = (SECURITY_UPDATE, REBOOT_REQUIRED)

REBOOT_TMPFILES = "etc/tmpfiles.d/faellesdrift-lab-reboot-required.conf"
REBOOT_PACKAGE = "libc6"
_TMPFILES = ("# faellesdrift lab: an installed update waits for a restart (lab server drift)\n"
             "f /run/reboot-required 0644 root root - *** System restart required ***\\n\n"
             f"f /run/reboot-required.pkgs 0644 root root - {REBOOT_PACKAGE}\\n\n")


def choose(tenant_index: int, server_index: int) -> tuple[str, ...]:
    """The drift of a tenant's n-th lab server: a rotation over the community, so a lab of
    one server per tenant has a pending security update, a reboot due and a clean host
    among its first three tenants, and bigger labs have all three in each tenant."""
    turn = (tenant_index + server_index) % 3
    return (KINDS[turn],) if turn < len(KINDS) else ()


def plant(root: Path, deviations: Iterable[str]) -> None:
    """Write the deviations into a server's root file system (before it boots)."""
    for kind in deviations:
        if kind == SECURITY_UPDATE:
            repo = root / security_repo.REPO.lstrip("/")
            if not (repo / "dists" / security_repo.SUITE / "Release").is_file():
                raise LabError(f"{root}: the base image has no lab security suite at "
                               f"{security_repo.REPO}; rebuild it (delete the cached image)")
            path = root / security_repo.SOURCES_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(security_repo.SOURCES_ENTRY, encoding="utf-8")
        elif kind == REBOOT_REQUIRED:
            path = root / REBOOT_TMPFILES
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_TMPFILES, encoding="utf-8")
        else:
            raise LabError(f"unknown server drift {kind!r}: use one of {', '.join(KINDS)}")
