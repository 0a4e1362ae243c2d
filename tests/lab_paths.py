"""The lab paths of a test that runs its own lab, or a failure saying what the machine lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from faellesdrift.lab import LabError, LabPaths, cache_dir, preflight


def lab_paths_or_fail(state: Path, what: str) -> LabPaths:
    """Lab paths under ``state`` (the image cache shared); fails naming ``what`` needs the lab."""
    paths = LabPaths(root=state / "lab", cache=cache_dir() / "lab")
    try:
        preflight(paths)
    except LabError as exc:
        pytest.fail(f"{what} this machine to run the lab: {exc}", pytrace=False)
    return paths
