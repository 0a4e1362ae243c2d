"""Fixtures for metering: the sample estate, a store per backend (SQLite, real PostgreSQL).

PostgreSQL tests are marked ``postgres`` and read the server URL from
$FAELLESDRIFT_TEST_PG_URL (``scripts/postgres-up.sh`` prints one). Without it they
FAIL, never skip: CI must prove the PostgreSQL path for real. Each test gets its
own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from faellesdrift.estate import Estate, load_estate
from faellesdrift.metering.store import Store, open_store
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
