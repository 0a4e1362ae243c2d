"""The community repository as git sees it: refs, changed files, files at a commit.

Only git's plumbing is used, through subprocess, with the repository given
explicitly (``git -C``). Files of another commit are written to a private
directory so the model layer reads them exactly as it reads the working tree.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from faellesdrift.community import STANDARDS_FILE, TENANTS_DIR
from faellesdrift.delivery.errors import DeliveryError
from faellesdrift.errors import UsageError

#: the files that define a community (what review and deliver look at)
COMMUNITY_PATHS = (STANDARDS_FILE, TENANTS_DIR)


@dataclass(frozen=True)
class Repo:
    top: Path  # the git work tree
    prefix: str  # where the community lies inside it ("" or "dir/")

    @classmethod
    def of(cls, root: Path) -> Repo:
        top = _git(root, "rev-parse", "--show-toplevel", error=UsageError,
                   what=f"{root} is not in a git repository; review and deliver compare "
                        "commits — run them in a clone of the community repository").strip()
        prefix = _git(root, "rev-parse", "--show-prefix").strip()
        return cls(Path(top), prefix)

    def git(self, *args: str, what: str = "", error: type[DeliveryError] = DeliveryError
            ) -> str:
        return _git(self.top, *args, what=what, error=error)

    def commit(self, ref: str) -> str:
        """The full commit id of ``ref``, or a one-line error naming the ref."""
        return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", error=UsageError,
                        what=f"--base {ref}: no such commit, branch or tag here (in CI, fetch "
                             "the base branch first: git fetch origin main)").strip()

    def merge_base(self, base: str, head: str = "HEAD") -> str:
        """Where the change branched off ``base`` (what a pull request is compared with)."""
        try:
            return self.git("merge-base", base, head).strip()
        except DeliveryError:
            return self.commit(base)

    def changed(self, base: str, head: str | None = None) -> list[str]:
        """Community files (relative to the community root) that differ between ``base`` and
        ``head`` (default: the working tree, untracked tenant files included)."""
        paths = [self.prefix + p for p in COMMUNITY_PATHS]
        args = ["diff", "--name-only", "--no-renames", base] + ([head] if head else [])
        out = set(self.git(*args, "--", *paths).splitlines())
        if head is None:
            out |= set(self.git("ls-files", "--others", "--exclude-standard", "--",
                                *paths).splitlines())
        return sorted(p.removeprefix(self.prefix) for p in out if p)

    def extract(self, ref: str, dest: Path) -> Path:
        """The community files as of ``ref``, written under ``dest`` (a private directory)."""
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
        listed = self.git("ls-tree", "-r", "-z", "--name-only", ref, "--",
                          *(self.prefix + p for p in COMMUNITY_PATHS)).split("\0")
        for name in filter(None, listed):
            rel = name.removeprefix(self.prefix)
            if rel != STANDARDS_FILE and not (rel.startswith(f"{TENANTS_DIR}/")
                                              and rel.count("/") == 1):
                continue
            blob = subprocess.run(["git", "-C", str(self.top), "show", f"{ref}:{name}"],
                                  capture_output=True, check=False)
            if blob.returncode != 0:
                raise DeliveryError(f"cannot read {name} at {ref}: "
                                    f"{blob.stderr.decode(errors='replace').strip()}")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        return dest

    def head(self) -> str:
        return self.commit("HEAD")

    def dirty(self) -> bool:
        """Uncommitted changes to the community files."""
        paths = [self.prefix + p for p in COMMUNITY_PATHS]
        return bool(self.git("status", "--porcelain", "--", *paths).strip())


def _git(cwd: Path, *args: str, what: str = "", error: type[DeliveryError] = DeliveryError
         ) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                              env=env, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise UsageError("git is not installed; review and deliver need it "
                            "(apt-get install git)") from None
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise error(what or f"git {' '.join(args)}: "
                            f"{detail[-1] if detail else f'exit {proc.returncode}'}")
    return proc.stdout
