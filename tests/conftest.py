"""Shared fixtures: the sample community, a fixed 'today', throw-away copies."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 27)  # the sample's exceptions are written relative to this day


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_TODAY", TODAY.isoformat())


@pytest.fixture
def sample_root() -> Path:
    return REPO


@pytest.fixture
def community_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample community (standards + tenants)."""
    shutil.copy(REPO / "community.yaml", tmp_path / "community.yaml")
    shutil.copytree(REPO / "tenants", tmp_path / "tenants")
    return tmp_path
