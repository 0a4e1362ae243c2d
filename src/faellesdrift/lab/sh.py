"""Running host commands with one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from faellesdrift.lab.errors import LabError

# command -> Debian package that provides it (scripts/lab-prereqs.sh installs them)
TOOLS: dict[str, str] = {
    "debootstrap": "debootstrap",
    "systemd-nspawn": "systemd-container",
    "zstd": "zstd",
    "tar": "tar",
    "ip": "iproute2",
    "mount": "mount",
    "nsenter": "util-linux",
    "ssh-keygen": "openssh-client",
    "ssh": "openssh-client",
    "dpkg-deb": "dpkg",
    "apt-ftparchive": "apt-utils",
    "chroot": "coreutils",
}


def require(*tools: str) -> None:
    """Fail with one line naming the missing tools and how to install them."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pkgs = sorted({TOOLS.get(t, t) for t in missing})
        raise LabError(
            f"missing {', '.join(missing)}: run scripts/lab-prereqs.sh "
            f"(apt-get install {' '.join(pkgs)})"
        )


def run(argv: Sequence[str], *, check: bool = True, input: str | None = None,
        timeout: float | None = 120,
        cwd: str | os.PathLike[str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run argv; on failure raise LabError with the command and its last error line."""
    try:
        proc = subprocess.run(list(argv), check=False, capture_output=True, text=True,
                              input=input, timeout=timeout, cwd=cwd)
    except FileNotFoundError:
        require(argv[0])
        raise
    except subprocess.TimeoutExpired:
        raise LabError(f"`{' '.join(argv)}` did not finish within {timeout:.0f} s") from None
    if check and proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        detail = lines[-1] if lines else f"exit code {proc.returncode}"
        raise LabError(f"`{' '.join(argv)}` failed: {detail}")
    return proc
