"""Database triggers that refuse UPDATE, DELETE and TRUNCATE on the ledger.

The model refuses edits too, but only the database can refuse raw SQL and other clients.
"""

from __future__ import annotations

TABLE = "governance_ledgerevent"
MESSAGE = "ledger events are append-only"

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS ledger_refuse_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    # SQLite has no TRUNCATE; "DELETE FROM t" without WHERE fires this trigger too.
    f"CREATE TRIGGER IF NOT EXISTS ledger_refuse_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS ledger_refuse_update",
    "DROP TRIGGER IF EXISTS ledger_refuse_delete",
]

POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END;
    $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS ledger_refuse_update_delete ON {TABLE}",
    f"CREATE TRIGGER ledger_refuse_update_delete BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
    f"DROP TRIGGER IF EXISTS ledger_refuse_truncate ON {TABLE}",
    f"CREATE TRIGGER ledger_refuse_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS ledger_refuse_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS ledger_refuse_truncate ON {TABLE}",
]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise NotImplementedError(f"No ledger guards for {vendor}.")


def install_guards(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=True):
            cursor.execute(statement)


def remove_guards(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=False):
            cursor.execute(statement)
