"""The usage store: SQLAlchemy 2 models, migrations on open, transactional ingest.

SQLite (a file in the state dir) by default, PostgreSQL by URL. One ingest is
one transaction: the batch record, its rows and the rollup they add to commit
together or not at all, so a collector killed mid-way leaves nothing behind.
The idempotency key is the primary key: re-ingesting a sample never doubles it.

Bulk paths (why they are not ORM inserts), each measured in benchmarks/metering.py:
- the checks and the rollup sums (plain Python over the row tuples) run in a second
  thread while the database writes: SQLite's step and PostgreSQL's server both work
  without the GIL, so on a machine with a free core that Python work runs beside the
  write instead of before it. A rejected batch rolls the open transaction back, so
  nothing is written, exactly as when checking first;
- SQLite gets one ``executemany`` of a 500-row ``INSERT`` into a table clustered by the
  key (64 KiB pages for a new file), and the rollup is added from the summed rows when
  every row was new (the common case), else computed in SQL from a staged copy;
- PostgreSQL gets a binary ``COPY`` straight into the table under a savepoint (the key
  compares bytewise, ``COLLATE "C"``) with the rollup summed here — or, when a key is
  already stored, ``COPY`` into a temporary table and one
  ``INSERT … ON CONFLICT DO NOTHING RETURNING`` that feeds the rollup.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Engine,
    Integer,
    String,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faellesdrift import audit, clock
from faellesdrift.metering.errors import StoreError, UsageRejected
from faellesdrift.metering.usage import UsageRow, check_rows

DB_ENV = "FAELLESDRIFT_DB"
MIGRATIONS = Path(__file__).with_name("migrations")
COLUMNS = ("key", "period", "day", "tenant", "meter", "subject", "quantity_micro", "unit",
           "source")


class Base(DeclarativeBase):
    pass


class Batch(Base):
    __tablename__ = "usage_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(80))
    periods: Mapped[str] = mapped_column(String(200))
    who: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rows_offered: Mapped[int] = mapped_column(BigInteger)
    rows_inserted: Mapped[int] = mapped_column(BigInteger)


class Usage(Base):
    __tablename__ = "usage"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    day: Mapped[date] = mapped_column(Date)
    tenant: Mapped[str] = mapped_column(String(63))
    meter: Mapped[str] = mapped_column(String(63))
    subject: Mapped[str] = mapped_column(String(200))
    quantity_micro: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(80))
    batch_id: Mapped[int] = mapped_column(Integer)


class Rollup(Base):
    """Per month, tenant, meter and subject: the sum of quantities and the number of samples."""

    __tablename__ = "usage_rollup"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    meter: Mapped[str] = mapped_column(String(63), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    total_micro: Mapped[int] = mapped_column(BigInteger)
    samples: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True)
class IngestResult:
    batch_id: int | None
    source: str
    offered: int
    inserted: int

    @property
    def duplicates(self) -> int:
        return self.offered - self.inserted


@dataclass(frozen=True)
class RollupRow:
    period: str
    tenant: str
    meter: str
    subject: str
    total_micro: int
    samples: int


def default_url(state_dir: Path) -> str:
    return f"sqlite:///{state_dir / 'metering.db'}"


def resolve_url(cli_value: str | None, state_dir: Path) -> str:
    """--db, else $FAELLESDRIFT_DB, else the SQLite file in the state dir."""
    return cli_value or os.environ.get(DB_ENV) or default_url(state_dir)


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


_UPSERT_ROLLUP = (
    "INSERT INTO usage_rollup (period, tenant, meter, subject, total_micro, samples) "
    "VALUES ({p}) ON CONFLICT (period, tenant, meter, subject) DO UPDATE SET "
    "total_micro = usage_rollup.total_micro + excluded.total_micro, "
    "samples = usage_rollup.samples + excluded.samples"
)

_PG_STAGE = (
    "CREATE TEMPORARY TABLE usage_stage (key text, period text, day date, tenant text, "
    "meter text, subject text, quantity_micro bigint, unit text, source text) ON COMMIT DROP"
)
_PG_MERGE = """
WITH ins AS (
  INSERT INTO usage (key, period, day, tenant, meter, subject, quantity_micro, unit, source,
                     batch_id)
  SELECT key, period, day, tenant, meter, subject, quantity_micro, unit, source, %(batch)s
  FROM usage_stage
  ON CONFLICT (key) DO NOTHING  -- also skips a key repeated inside the batch
  RETURNING period, tenant, meter, subject, quantity_micro
), agg AS (
  SELECT period, tenant, meter, subject, sum(quantity_micro)::bigint AS total, count(*) AS n
  FROM ins GROUP BY period, tenant, meter, subject
), up AS (
  INSERT INTO usage_rollup (period, tenant, meter, subject, total_micro, samples)
  SELECT period, tenant, meter, subject, total, n FROM agg
  ON CONFLICT (period, tenant, meter, subject) DO UPDATE SET
    total_micro = usage_rollup.total_micro + excluded.total_micro,
    samples = usage_rollup.samples + excluded.samples
  RETURNING 1
)
SELECT coalesce(sum(n), 0)::bigint FROM agg
"""


#: for a new file only (SQLite keeps the size it was created with): bulk ingest writes
#: fewer, fuller pages; measured in benchmarks/metering.py
PAGE_SIZE = "page_size=65536"


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_connection.cursor()
        for pragma in (PAGE_SIZE, "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000",
                       "cache_size=-65536", "temp_store=MEMORY"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


class Store:
    """An open usage store. Build it with ``open_store(url)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------

    def ingest(self, rows: Sequence[UsageRow], *, source: str, today: date,
               tenants: Collection[str] | None = None, where: str = "usage") -> IngestResult:
        """Write one batch in one transaction; rows already present are skipped.

        Every row is checked (meter, unit, tenant, quantity, day not after ``today``):
        one bad row rejects the batch and nothing is written.
        """
        if not rows:
            return IngestResult(None, source, 0, 0)
        with ThreadPoolExecutor(1, thread_name_prefix="ingest-check") as pool:
            checked = pool.submit(check_and_sum, rows, today, tenants, where)
            try:
                inserted, batch_id = self._write(rows, source, checked)
            except BaseException:
                _raise_if_rejected(checked)  # the check names the bad row; the DB error would not
                raise
        return IngestResult(batch_id, source, len(rows), inserted)

    def _write(self, rows: Sequence[UsageRow], source: str,
               checked: Future[_Checked]) -> tuple[int, int]:
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            with self._transaction() as conn:
                batch_id = conn.execute(Batch.__table__.insert().values(
                    source=source[:80], periods="", who=audit.who()[:80],
                    started_at=clock.now(), rows_offered=len(rows),
                    rows_inserted=0)).inserted_primary_key[0]
                raw = conn.connection.driver_connection
                if self.dialect == "sqlite":
                    inserted = _ingest_sqlite(raw, rows, batch_id, checked)
                else:
                    inserted = _ingest_postgres(raw, rows, batch_id, checked)
                periods = checked.result().periods  # raises UsageRejected: rolled back
                conn.execute(Batch.__table__.update().where(Batch.id == batch_id)
                             .values(rows_inserted=inserted, periods=periods))
        except (SQLAlchemyError, dbapi_error) as exc:
            _raise_if_rejected(checked)
            raise StoreError(f"{safe_url(str(self.engine.url))}: ingest failed, nothing "
                             f"written: {_first_line(exc)}") from None
        return inserted, batch_id

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # -- reading -----------------------------------------------------------------

    def rollup(self, months: Sequence[str], tenants: Collection[str] | None = None
               ) -> list[RollupRow]:
        q = select(Rollup.period, Rollup.tenant, Rollup.meter, Rollup.subject,
                   Rollup.total_micro, Rollup.samples).where(Rollup.period.in_(list(months)))
        if tenants is not None:
            q = q.where(Rollup.tenant.in_(list(tenants)))
        with self.engine.connect() as conn:
            return [RollupRow(*r) for r in conn.execute(q)]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(Usage)).scalar_one()
            batches = conn.execute(select(func.count()).select_from(Batch)).scalar_one()
            rolled = conn.execute(select(func.coalesce(func.sum(Rollup.samples), 0))).scalar_one()
        return {"rows": rows, "batches": batches, "rollup_samples": int(rolled)}

    def batches(self, limit: int = 20) -> list[dict]:
        q = select(Batch).order_by(Batch.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- closed months ----------------------------------------------------------

    def close_month(self, close: dict[str, Any], statements: Sequence[dict[str, Any]]) -> None:
        """Write a month's close record and its statements in one transaction (once only)."""
        try:
            with self._transaction() as conn:
                conn.execute(text(
                    "INSERT INTO settlement_close (period, model, mode, closed_at, who, "
                    "total_ore, body, sha256) VALUES (:period, :model, :mode, :closed_at, "
                    ":who, :total_ore, :body, :sha256)"), close)
                if statements:
                    conn.execute(text(
                        "INSERT INTO settlement_statement (period, tenant, model, amount_ore, "
                        "body, sha256) VALUES (:period, :tenant, :model, :amount_ore, :body, "
                        ":sha256)"), list(statements))
        except IntegrityError:
            raise StoreError(f"{close['period']} is already closed; closed statements never "
                             "change — corrections go into the next open month") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"{safe_url(str(self.engine.url))}: closing {close['period']} "
                             f"failed, nothing written: {_first_line(exc)}") from None

    def closed_months(self) -> dict[str, dict[str, Any]]:
        """Every closed month → its close record."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT period, model, mode, closed_at, who, total_ore, "
                                     "body, sha256 FROM settlement_close ORDER BY period"))
            return {r.period: dict(r._mapping) for r in rows}

    def statements(self, period: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT period, tenant, model, amount_ore, body, sha256 FROM "
                "settlement_statement WHERE period = :p ORDER BY tenant"), {"p": period})
            return [dict(r._mapping) for r in rows]

    def rows(self, period: str, tenant: str | None = None, limit: int = 1000) -> list[UsageRow]:
        q = select(*(getattr(Usage, c) for c in COLUMNS)).where(Usage.period == period)
        if tenant:
            q = q.where(Usage.tenant == tenant)
        q = q.order_by(Usage.key).limit(limit)
        with self.engine.connect() as conn:
            return [UsageRow(r[0], r[1], r[2].isoformat() if isinstance(r[2], date) else r[2],
                             *r[3:]) for r in conn.execute(q)]


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


@dataclass(frozen=True)
class _Checked:
    """What the check thread hands the writer: the batch's months and its rollup sums."""

    periods: str
    rollup: list[tuple]


#: rows per slice of the check thread: each slice's set operations hold the GIL for about
#: a millisecond, so the writer thread gets it back between its database steps
CHECK_SLICE = 16_384


def check_and_sum(rows: Sequence[UsageRow], today: date, tenants: Collection[str] | None,
                  where: str) -> _Checked:
    """The batch's checks and rollup sums: what ingest runs beside the database write."""
    periods: set[str] = set()
    totals: dict[tuple, list[int]] = {}
    for start in range(0, len(rows), CHECK_SLICE):
        part = rows[start:start + CHECK_SLICE]
        check_rows(part, today=today, tenants=tenants, where=where, first_row=start + 1)
        periods.update(map(itemgetter(1), part))
        _sum_into(totals, part)
    return _Checked(",".join(sorted(periods))[:200], [(*k, t[0], t[1])
                                                      for k, t in totals.items()])


def _raise_if_rejected(checked: Future[_Checked]) -> None:
    try:
        checked.result()
    except UsageRejected:
        raise
    except Exception:  # noqa: BLE001 - the writer's own error is the one to report
        return


def _ingest_sqlite(raw: Any, rows: Sequence[UsageRow], batch_id: int,
                   checked: Future[_Checked]) -> int:
    """Fast path: all rows new (one executemany, rollup summed here). Else exact SQL path."""
    cur = raw.cursor()
    try:
        cur.execute("SAVEPOINT ingest")
        inserted = _insert_many(cur, rows, batch_id)
        if inserted == len(rows):
            cur.executemany(_UPSERT_ROLLUP.format(p="?, ?, ?, ?, ?, ?"), checked.result().rollup)
            cur.execute("RELEASE ingest")
            return inserted
        cur.execute("ROLLBACK TO ingest")
        cur.execute("RELEASE ingest")
        if inserted == 0:
            return 0
        return _ingest_sqlite_exact(cur, rows, batch_id)
    finally:
        cur.close()


#: rows per INSERT statement on SQLite: one statement step inserts many rows, which
#: roughly doubles executemany's rate (9 parameters × 500 stays far below the
#: 32,766-parameter limit); measured in benchmarks/metering.py
SQLITE_ROWS_PER_STATEMENT = 500


def _insert_many(cur: Any, rows: Sequence[UsageRow], batch_id: int) -> int:
    """INSERT OR IGNORE every row, many rows per statement; returns the rows inserted."""
    head = f"INSERT OR IGNORE INTO usage ({', '.join(COLUMNS)}, batch_id) VALUES "
    one = f"(?, ?, ?, ?, ?, ?, ?, ?, ?, {int(batch_id)})"
    n = SQLITE_ROWS_PER_STATEMENT
    full = len(rows) // n * n
    flat = chain.from_iterable
    inserted = 0
    if full:
        cur.executemany(head + ", ".join([one] * n),
                        (tuple(flat(rows[i:i + n])) for i in range(0, full, n)))
        inserted += cur.rowcount
    if full < len(rows):
        rest = rows[full:]
        cur.execute(head + ", ".join([one] * len(rest)), tuple(flat(rest)))
        inserted += cur.rowcount
    return inserted


def _ingest_sqlite_exact(cur: Any, rows: Sequence[UsageRow], batch_id: int) -> int:
    """Some rows exist already (or repeat in the batch): stage, keep the new, roll them up."""
    cols = ", ".join(COLUMNS)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS usage_stage ({cols}, PRIMARY KEY (key)) "
                "WITHOUT ROWID")
    cur.execute("DELETE FROM usage_stage")
    cur.executemany(f"INSERT OR IGNORE INTO usage_stage ({cols}) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    cur.execute("DELETE FROM usage_stage WHERE key IN (SELECT s.key FROM usage_stage s "
                "JOIN usage u ON u.key = s.key)")
    cur.execute(f"INSERT INTO usage ({cols}, batch_id) SELECT {cols}, {int(batch_id)} "
                "FROM usage_stage")
    inserted = cur.rowcount
    cur.execute(
        "INSERT INTO usage_rollup (period, tenant, meter, subject, total_micro, samples) "
        "SELECT period, tenant, meter, subject, sum(quantity_micro), count(*) FROM usage_stage "
        "WHERE true GROUP BY period, tenant, meter, subject "
        "ON CONFLICT (period, tenant, meter, subject) DO UPDATE SET "
        "total_micro = usage_rollup.total_micro + excluded.total_micro, "
        "samples = usage_rollup.samples + excluded.samples")
    cur.execute("DELETE FROM usage_stage")
    return inserted


def _sum_into(totals: dict[tuple, list[int]], rows: Sequence[UsageRow]) -> None:
    """Add rows to (period, tenant, meter, subject) → [sum of quantities, samples]."""
    for k, q in zip(map(itemgetter(1, 3, 4, 5), rows), map(itemgetter(6), rows),
                    strict=True):
        t = totals.get(k)
        if t is None:
            totals[k] = [q, 1]
        else:
            t[0] += q
            t[1] += 1


_PG_ROLLUP_STAGE = (
    "CREATE TEMPORARY TABLE rollup_stage (period text, tenant text, meter text, subject text, "
    "total_micro bigint, samples bigint) ON COMMIT DROP"
)
_PG_ROLLUP_MERGE = (
    "INSERT INTO usage_rollup (period, tenant, meter, subject, total_micro, samples) "
    "SELECT period, tenant, meter, subject, total_micro, samples FROM rollup_stage "
    "ON CONFLICT (period, tenant, meter, subject) DO UPDATE SET "
    "total_micro = usage_rollup.total_micro + excluded.total_micro, "
    "samples = usage_rollup.samples + excluded.samples"
)


#: COPY column types for the binary format, in ``COLUMNS`` order, then batch_id
_PG_TYPES = ("text", "text", "date", "text", "text", "text", "int8", "text", "text", "int4")


def _ingest_postgres(raw: Any, rows: Sequence[UsageRow], batch_id: int,
                     checked: Future[_Checked]) -> int:
    """Fast path: binary COPY straight into ``usage`` (rollup summed by the check thread);
    a key that is already stored (or repeated) rolls back to the savepoint and takes the
    staged path."""
    import psycopg

    days: dict[str, date] = {}

    def day(text: str) -> date:
        d = days.get(text)
        if d is None:
            d = days[text] = date.fromisoformat(text)
        return d

    with raw.cursor() as cur:
        cur.execute("SAVEPOINT ingest")
        try:
            with cur.copy(f"COPY usage ({', '.join(COLUMNS)}, batch_id) FROM STDIN "
                          "(FORMAT BINARY)") as copy:
                copy.set_types(_PG_TYPES)
                write = copy.write_row
                for k, p, d, t, m, s, q, u, src in rows:
                    write((k, p, days.get(d) or day(d), t, m, s, q, u, src, batch_id))
        except psycopg.errors.UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT ingest")
        else:
            cur.execute("RELEASE SAVEPOINT ingest")
            cur.execute(_PG_ROLLUP_STAGE)
            with cur.copy("COPY rollup_stage FROM STDIN") as copy:
                for r in checked.result().rollup:
                    copy.write_row(r)
            cur.execute(_PG_ROLLUP_MERGE)
            cur.execute("DROP TABLE rollup_stage")
            return len(rows)
        cur.execute(_PG_STAGE)
        with cur.copy(f"COPY usage_stage ({', '.join(COLUMNS)}) FROM STDIN "
                      "(FORMAT BINARY)") as copy:
            copy.set_types(_PG_TYPES[:-1])
            write = copy.write_row
            for k, p, d, t, m, s, q, u, src in rows:
                write((k, p, days.get(d) or day(d), t, m, s, q, u, src))
        cur.execute(_PG_MERGE, {"batch": batch_id})
        inserted = int(cur.fetchone()[0])
        cur.execute("DROP TABLE usage_stage")
    return inserted


def open_store(url: str) -> Store:
    """Connect, create the SQLite file's folder if needed, and migrate to the latest schema."""
    shown = safe_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database URL {shown!r} is not a URL; use sqlite:///PATH or "
                         "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"database URL {shown!r}: backend {backend!r} is not supported; "
                         "use sqlite:///PATH or postgresql+psycopg://…")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=backend == "postgresql")
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"database URL {shown!r}: {exc}") from None
    if backend == "sqlite":
        _sqlite_pragmas(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the metering database {shown}: {_first_line(exc)} — "
                         f"check --db / ${DB_ENV}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot migrate the metering database {shown}: "
                         f"{_first_line(exc)}") from None
    return Store(engine)
