"""Fixtures for metering: the sample estate, a store per backend (SQLite, real PostgreSQL).

PostgreSQL tests are marked ``postgres`` and read the server URL from
$FAELLESDRIFT_TEST_PG_URL (``scripts/postgres-up.sh`` prints one). Without it they
FAIL, never skip: CI must prove the PostgreSQL path for real. Each test gets its
own schema, dropped afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest

from faellesdrift.estate import Estate, load_estate
from faellesdrift.metering.store import Store, open_store
from faellesdrift.model import Settlement
from tests.conftest import REPO, TODAY

PG_ENV = "FAELLESDRIFT_TEST_PG_URL"


@pytest.fixture
def estate() -> Estate:
    return load_estate(REPO, TODAY)


def pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"${PG_ENV} is not set: start PostgreSQL with "
                    f"`export {PG_ENV}=$(scripts/postgres-up.sh | tail -1)` and run again",
                    pytrace=False)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema (dropped after the test)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(pg_base_url())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in str(base) else "?"
    yield base.render_as_string(hide_password=False) + \
        f"{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metering.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def going_live(estate: Estate, slugs: list[str], go_live: dict[str, date] | None = None,
               default: date = date(2026, 1, 1)) -> Estate:
    """The sample estate cut to some tenants, each going live on the given day (default:
    long before the test's months), so that settlement has someone to bill."""
    dates = go_live or {}
    shard = estate.subset(slugs)
    tenants = tuple(t.model_copy(update={"onboarding": t.onboarding.model_copy(
        update={"target": dates.get(t.slug, default)})}) for t in shard.tenants)
    return dataclasses.replace(shard, tenants=tenants)


def with_settlement(estate: Estate, pools: dict, rates: dict) -> Estate:
    s = Settlement.model_validate({"pools": pools, "rates": rates})
    return dataclasses.replace(estate, standards=estate.standards.model_copy(
        update={"settlement": s}))


def copy_going_live(src: Path, dst: Path, go_live: dict[str, str], default: str) -> Path:
    """A writable copy of the sample community whose tenants go live on the given days."""
    shutil.copy(src / "community.yaml", dst / "community.yaml")
    shutil.copytree(src / "tenants", dst / "tenants")
    for path in (dst / "tenants").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        day = go_live.get(path.stem, default)
        text = re.sub(r"^onboarding: \{wave: (\d+), target: [0-9-]+\}",
                      rf"onboarding: {{wave: \1, target: {day}}}", text, flags=re.MULTILINE)
        path.write_text(text, encoding="utf-8")
    return dst
