"""Reading a KPI's monthly figures from its system of record: a read-only SQL query or a dropped CSV.

A reading either yields every row, checked, with the hashes that let anyone reproduce it (the
query's text, the rows as read), or fails with a reason the KPI's owner reads in their language.
It never writes to the source: SQL runs in a read-only transaction under a statement timeout and
is rolled back; a file is only read.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import sqlalchemy
from sqlalchemy.pool import NullPool

from governance.rules.reasons import Reason
from governance.value.connectors.config import CSV, Connector
from projects.values import parse_decimal

COLUMNS = ("period", "value", "sample_size")
# A query is one SELECT (or WITH … SELECT) statement; the read-only transaction is what guarantees
# it changes nothing, this only turns a mistaken statement away with a clear reason.
_LEADING_COMMENTS = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*", re.DOTALL)
# A file is named, never pathed: nothing outside the connector's directory can be read.
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.csv$")


class SourceProblem(Exception):
    def __init__(self, code: str, **params):
        self.reason = Reason.of(code, **{k: str(v) for k, v in params.items()})
        super().__init__(code)


@dataclass(frozen=True)
class SourceRow:
    period: dt.date
    value: Decimal
    sample_size: int | None


@dataclass(frozen=True)
class Read:
    rows: tuple[SourceRow, ...]
    query_hash: str
    result_hash: str


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def check_query(connector: Connector, query: str) -> None:
    """Refuse, before it is registered, what this connector could never read."""
    if connector.kind == CSV:
        if not _FILE_NAME.match(query):
            raise SourceProblem("kpi_source.bad_file_name", name=query[:80])
        return
    body = _LEADING_COMMENTS.sub("", query).rstrip().rstrip(";")
    first = body.split(None, 1)[0].lower() if body else ""
    if first not in ("select", "with") or ";" in body:
        raise SourceProblem("kpi_source.not_a_select")


def read_source(connector: Connector, query: str) -> Read:
    raw = _read_csv(connector, query) if connector.kind == CSV else _read_sql(connector, query)
    if not raw:
        raise SourceProblem("kpi_source.no_rows")
    if len(raw) > connector.row_limit:
        raise SourceProblem("kpi_source.too_many_rows", limit=connector.row_limit)
    rows = tuple(_row(index, row) for index, row in enumerate(raw, start=1))
    result = json.dumps(
        [[r.period.isoformat(), str(r.value), r.sample_size] for r in rows], separators=(",", ":")
    )
    return Read(
        rows=rows, query_hash=query_hash(query), result_hash=hashlib.sha256(result.encode()).hexdigest()
    )


def _row(index: int, row: dict) -> SourceRow:
    period = row.get("period")
    if isinstance(period, dt.datetime):
        period = period.date()
    elif isinstance(period, str):
        try:
            period = dt.date.fromisoformat(period.strip()[:10])
        except ValueError:
            raise SourceProblem("kpi_source.bad_row", row=index, column="period") from None
    if not isinstance(period, dt.date) or period.day != 1:
        raise SourceProblem("kpi_source.bad_row", row=index, column="period")
    try:
        value = parse_decimal(row.get("value"), what="value")
    except ValueError:
        raise SourceProblem("kpi_source.bad_row", row=index, column="value") from None
    return SourceRow(period, value, _sample_size(index, row.get("sample_size")))


def _sample_size(index: int, raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        size = Decimal(str(raw).strip())
    except ArithmeticError:
        size = Decimal(-1)
    # A whole number of units the measurement column keeps (PositiveIntegerField).
    if not size.is_finite() or not 0 <= size <= 2_147_483_647 or size != size.to_integral_value():
        raise SourceProblem("kpi_source.bad_row", row=index, column="sample_size")
    return int(size)


def _read_csv(connector: Connector, name: str) -> list[dict]:
    if not _FILE_NAME.match(name):
        raise SourceProblem("kpi_source.bad_file_name", name=name[:80])
    path = Path(connector.directory) / name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceProblem("kpi_source.file_missing", name=name) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SourceProblem("kpi_source.file_unreadable", name=name, problem=type(error).__name__) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or ()]
    _check_columns(header)
    rows = []
    for row in reader:
        rows.append({k.strip(): v for k, v in row.items() if k is not None})
        if len(rows) > connector.row_limit:
            break
    return rows


def _check_columns(columns) -> None:
    missing = [c for c in ("period", "value") if c not in columns]
    if missing:
        raise SourceProblem("kpi_source.missing_columns", columns=", ".join(missing))


@cache
def _engine(url: str, timeout_seconds: float) -> sqlalchemy.Engine:
    # No pool: a reading runs at most hourly, and a pooled connection would outlive a password
    # rotated in the environment. Connecting is bounded as the statement is: an unreachable server
    # must not hold the periodic work.
    backend = sqlalchemy.make_url(url).get_backend_name()
    connect_args = {"connect_timeout": max(1, round(timeout_seconds))} if backend == "postgresql" else {}
    return sqlalchemy.create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _read_sql(connector: Connector, query: str) -> list[dict]:
    url = os.environ.get(connector.url_env, "")
    if not url:
        raise SourceProblem("kpi_source.no_url", variable=connector.url_env)
    check_query(connector, query)
    try:
        engine = _engine(url, connector.timeout_seconds)
    except (sqlalchemy.exc.ArgumentError, ImportError, sqlalchemy.exc.NoSuchModuleError):
        raise SourceProblem("kpi_source.bad_url", variable=connector.url_env) from None
    dialect = engine.dialect.name
    if dialect not in _GUARDS:
        raise SourceProblem("kpi_source.dialect_unsupported", dialect=dialect)
    try:
        with engine.connect() as connection:
            with _GUARDS[dialect](connection, connector.timeout_seconds):
                result = connection.execute(sqlalchemy.text(query))
                _check_columns(list(result.keys()))
                rows = [dict(row._mapping) for row in result.fetchmany(connector.row_limit + 1)]
            connection.rollback()
    except sqlalchemy.exc.OperationalError as error:
        if _timed_out(error):
            raise SourceProblem("kpi_source.timed_out", seconds=f"{connector.timeout_seconds:g}") from None
        raise SourceProblem("kpi_source.unreachable", problem=_first_line(error)) from None
    except sqlalchemy.exc.SQLAlchemyError as error:
        # Whatever else the query did wrong (returned no result set, …): the reading's failure alone.
        raise SourceProblem("kpi_source.query_failed", problem=_first_line(error)) from None
    return rows


def _first_line(error: sqlalchemy.exc.SQLAlchemyError) -> str:
    # The driver's message without the statement, which the source's page already shows.
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _timed_out(error: sqlalchemy.exc.OperationalError) -> bool:
    # PostgreSQL: SQLSTATE 57014 (query_canceled); SQLite: the progress handler's interrupt.
    return getattr(error.orig, "sqlstate", None) == "57014" or "interrupted" in str(error.orig)


@contextmanager
def _postgres_guard(connection: sqlalchemy.Connection, seconds: float) -> Iterator[None]:
    """A read-only transaction whose statements stop after the connector's timeout."""
    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
    yield


@contextmanager
def _sqlite_guard(connection: sqlalchemy.Connection, seconds: float) -> Iterator[None]:
    """SQLite has no statement timeout: a progress handler interrupts the statement past its
    deadline, and `query_only` refuses any write."""
    raw = connection.connection.driver_connection
    assert raw is not None  # a connection just opened has its driver's
    deadline = time.monotonic() + seconds
    connection.exec_driver_sql("PRAGMA query_only = ON")
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


_GUARDS: dict[str, Callable[[sqlalchemy.Connection, float], AbstractContextManager[None]]] = {
    "postgresql": _postgres_guard,
    "sqlite": _sqlite_guard,
}
