"""Shared fixtures: the sample community, a fixed 'today', throw-away copies."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

import faellesdrift  # noqa: F401 - its process settings (gRPC) apply before a test imports grpc

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 27)  # a fixed day for reproducible unit tests; dates that matter
# for an exception's status are taken from the sample itself (``expiry_of``)


def expiry_of(exception_id: str) -> date:
    """The sample's expiry date of one exception, read from its tenant file."""
    from faellesdrift.community import load_community

    community, findings = load_community(REPO)
    assert community is not None, findings
    for source in community.sources:
        for record in source.tenant.exceptions:
            if record.id == exception_id and record.expires is not None:
                return record.expires
    raise LookupError(f"no exception {exception_id} with an expiry in the sample")


def day_after_expiry(exception_id: str) -> date:
    return expiry_of(exception_id) + timedelta(days=1)


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
