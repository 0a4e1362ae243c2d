"""A Debian security suite for the lab, built into the servers' base image.

Lab servers have no internet, so Debian's security archive cannot tell them about
a fix. The lab brings its own: when the base image is built, one package the image
has installed (its .deb is still in debootstrap's archive cache) is rebuilt with a
higher version — the same files, version ``<installed>+fdlab1`` — into a small apt
repository (dpkg-deb, apt-ftparchive) whose Release file says what Debian's
security archive says (Origin Debian, Label Debian-Security, Suite and Codename
bookworm-security). The image keeps the repository at ``REPO`` and its package
lists in /var/lib/apt/lists, as ``apt-get update`` leaves them, but no sources
entry: apt on a server ignores the suite until the lab's server drift
(``server_drift``) adds ``SOURCES_ENTRY`` to that one server. apt there then finds
a pending security update exactly as on a real Debian host whose lists are fresh.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from faellesdrift.lab.errors import LabError
from faellesdrift.lab.sh import require, run

PACKAGE = "sudo"  # installed on every lab server; Debian has shipped security fixes for it
VERSION_SUFFIX = "+fdlab1"
SUITE = "bookworm-security"
REPO = "/srv/faellesdrift-lab/security"  # inside the image
SOURCES_ENTRY = f"deb [trusted=yes] file:{REPO} {SUITE} main\n"
SOURCES_FILE = "etc/apt/sources.list.d/faellesdrift-lab-security.list"  # relative to the root
RELEASE = {"Origin": "Debian", "Label": "Debian-Security", "Suite": SUITE, "Codename": SUITE,
           "Version": "12", "Components": "main",
           "Description": "faellesdrift lab: security updates for the lab's servers"}


def recipe() -> dict[str, object]:
    """What the image build does here (part of the image's recipe hash)."""
    return {"package": PACKAGE, "suffix": VERSION_SUFFIX, "repo": REPO, "release": RELEASE,
            "version": 1}


def build(root: Path) -> str:
    """Add the repository and its package lists to the debootstrapped ``root``; return the
    new version of ``PACKAGE``. Needs the .deb debootstrap left in the archive cache."""
    require("dpkg-deb", "apt-ftparchive", "chroot")
    debs = sorted((root / "var/cache/apt/archives").glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise LabError(f"{root}: no {PACKAGE} .deb in var/cache/apt/archives to build the lab's "
                       "security suite from (debootstrap keeps them; build the image again)")
    arch = run(["chroot", str(root), "dpkg", "--print-architecture"]).stdout.strip()
    repo = root / REPO.lstrip("/")
    shutil.rmtree(repo, ignore_errors=True)
    pool = repo / "pool/main" / PACKAGE[0] / PACKAGE
    binary = repo / "dists" / SUITE / "main" / f"binary-{arch}"
    pool.mkdir(parents=True)
    binary.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="fd-secrepo-") as tmp:
        unpacked = Path(tmp) / "pkg"
        run(["dpkg-deb", "-R", str(debs[-1]), str(unpacked)])
        control = unpacked / "DEBIAN/control"
        text = control.read_text(encoding="utf-8")
        m = re.search(r"^Version: (\S+)$", text, flags=re.MULTILINE)
        if m is None:
            raise LabError(f"{debs[-1]}: no Version in its control file")
        version = m.group(1) + VERSION_SUFFIX
        control.write_text(text.replace(m.group(0), f"Version: {version}"), encoding="utf-8")
        deb = pool / f"{PACKAGE}_{version.split(':')[-1]}_{arch}.deb"
        run(["dpkg-deb", "--root-owner-group", "-Zxz", "-b", str(unpacked), str(deb)],
            timeout=300)
    packages = run(["apt-ftparchive", "packages", "pool"], cwd=repo).stdout
    (binary / "Packages").write_text(packages, encoding="utf-8")
    options = [f"-oAPT::FTPArchive::Release::{k}={v}" for k, v in RELEASE.items()]
    options.append(f"-oAPT::FTPArchive::Release::Architectures={arch}")
    release = run(["apt-ftparchive", *options, "release", f"dists/{SUITE}"], cwd=repo).stdout
    (repo / "dists" / SUITE / "Release").write_text(release, encoding="utf-8")
    for path in [repo, *repo.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # apt reads it as _apt
    _refresh_lists(root)
    return version


def _refresh_lists(root: Path) -> None:
    """``apt-get update`` of this suite only, inside the image: its lists land next to the
    main archive's, which stay (List-Cleanup off)."""
    sources = root / "tmp/faellesdrift-lab-security.list"
    sources.write_text(SOURCES_ENTRY, encoding="utf-8")
    try:
        run(["chroot", str(root), "apt-get", "update", "-qq",
             "-oDir::Etc::SourceList=/tmp/faellesdrift-lab-security.list",
             "-oDir::Etc::SourceParts=-", "-oAPT::Get::List-Cleanup=0",
             "-oAPT::Sandbox::User=root"], timeout=300)
    finally:
        sources.unlink(missing_ok=True)
    if not any((root / "var/lib/apt/lists").glob("*bookworm-security*")):
        raise LabError(f"{root}: apt-get update left no lists for {SUITE}")
