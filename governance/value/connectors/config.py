"""The deployment's KPI connectors, as configured in settings.VALUEGATE_KPI_CONNECTORS.

A connector is named once by whoever runs ValueGate; a lead's KPI source only names the connector
and what to read there. Credentials never enter the database or the settings file: a SQL
connector names the environment variable that holds its SQLAlchemy URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SQL = "sql"
CSV = "csv"
KINDS = (SQL, CSV)


@dataclass(frozen=True)
class Connector:
    name: str
    kind: str
    url_env: str = ""  # SQL: the environment variable holding the SQLAlchemy URL
    directory: str = ""  # CSV: where the files are dropped
    timeout_seconds: float = 30.0  # SQL: the statement timeout
    row_limit: int = 10_000  # rows beyond this refuse the reading rather than cut it short


def _connector(name: str, entry: object) -> Connector:
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"VALUEGATE_KPI_CONNECTORS[{name!r}] must be an object.")
    unknown = set(entry) - {"kind", "url_env", "directory", "timeout_seconds", "row_limit"}
    if unknown:
        raise ImproperlyConfigured(f"VALUEGATE_KPI_CONNECTORS[{name!r}] has unknown keys: {sorted(unknown)}.")
    connector = Connector(name=name, **entry)
    if connector.kind not in KINDS:
        raise ImproperlyConfigured(f"VALUEGATE_KPI_CONNECTORS[{name!r}]: kind must be one of {KINDS}.")
    if connector.kind == SQL and not connector.url_env:
        raise ImproperlyConfigured(f"VALUEGATE_KPI_CONNECTORS[{name!r}]: a SQL connector needs url_env.")
    if connector.kind == CSV and not connector.directory:
        raise ImproperlyConfigured(f"VALUEGATE_KPI_CONNECTORS[{name!r}]: a CSV connector needs directory.")
    if not (0 < float(connector.timeout_seconds) <= 3600) or not (0 < int(connector.row_limit) <= 1_000_000):
        raise ImproperlyConfigured(
            f"VALUEGATE_KPI_CONNECTORS[{name!r}]: timeout_seconds must be in (0, 3600] and row_limit in "
            "(0, 1000000]."
        )
    return connector


def configured_connectors() -> dict[str, Connector]:
    return {name: _connector(name, entry) for name, entry in settings.VALUEGATE_KPI_CONNECTORS.items()}


def connector_named(name: str) -> Connector | None:
    return configured_connectors().get(name)
