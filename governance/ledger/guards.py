"""Database triggers that keep the ledger's tables append-only.

The models refuse edits too, but only the database can refuse raw SQL and other clients. Events,
tree nodes and checkpoints refuse UPDATE, DELETE and TRUNCATE, with one exception: the sequencer
sets an event's seq and sequenced_at once, on a row that has none, changing nothing else.

A database superuser can still drop the triggers; what they would then change is caught by
verification against the signatures and the published checkpoints, not by these guards.
"""

from __future__ import annotations

EVENTS = "governance_ledgerevent"
APPEND_ONLY = ["governance_ledgertreenode", "governance_ledgercheckpoint"]
MESSAGE = "ledger events are append-only"
# Every column of an event but the two the sequencer sets once.
FROZEN = [
    "id",
    "recorded_at",
    "actor_id",
    "actor_name",
    "action",
    "initiative_id",
    "payload",
    "nonce",
    "key_id",
    "signature",
    "prev_hash",
    "hash",
]
_SEALING = " AND ".join(
    ["OLD.seq IS NULL", "NEW.seq IS NOT NULL", "OLD.sequenced_at IS NULL"]
    + [f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in FROZEN]
)


def _sqlite_install(tables: list[str]) -> list[str]:
    sealing = _SEALING.replace("IS NOT DISTINCT FROM", "IS")  # SQLite's IS compares NULLs too
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS ledger_refuse_update BEFORE UPDATE ON {EVENTS} "
        f"WHEN NOT ({sealing}) BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        # SQLite has no TRUNCATE; "DELETE FROM t" without WHERE fires this trigger too.
        f"CREATE TRIGGER IF NOT EXISTS ledger_refuse_delete BEFORE DELETE ON {EVENTS} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ]
    for table in tables:
        for verb in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    return statements


def _sqlite_remove() -> list[str]:
    names = ["ledger_refuse_update", "ledger_refuse_delete"] + [
        f"{table}_refuse_{verb}" for table in APPEND_ONLY for verb in ("update", "delete")
    ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def _postgres_install(tables: list[str]) -> list[str]:
    statements = [
        f"""CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END;
        $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE FUNCTION ledger_refuse_all_but_sealing() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND {_SEALING} THEN RETURN NEW; END IF;
          RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS ledger_refuse_update_delete ON {EVENTS}",
        f"CREATE TRIGGER ledger_refuse_update_delete BEFORE UPDATE OR DELETE ON {EVENTS} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_all_but_sealing()",
    ]
    for table in [EVENTS, *tables]:
        if table != EVENTS:
            statements += [
                f"DROP TRIGGER IF EXISTS ledger_refuse_update_delete ON {table}",
                f"CREATE TRIGGER ledger_refuse_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
            ]
        statements += [
            f"DROP TRIGGER IF EXISTS ledger_refuse_truncate ON {table}",
            f"CREATE TRIGGER ledger_refuse_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
        ]
    return statements


def _postgres_remove() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {trigger} ON {table}"
        for table in [EVENTS, *APPEND_ONLY]
        for trigger in ("ledger_refuse_update_delete", "ledger_refuse_truncate")
    ]


def _statements(vendor: str, *, install: bool, tables: list[str]) -> list[str]:
    if vendor == "postgresql":
        return _postgres_install(tables) if install else _postgres_remove()
    if vendor == "sqlite":
        return _sqlite_install(tables) if install else _sqlite_remove()
    raise NotImplementedError(f"No ledger guards for {vendor}.")


def install_guards(connection) -> None:
    # An earlier migration installs the guards before the tree's tables exist.
    existing = set(connection.introspection.table_names())
    tables = [table for table in APPEND_ONLY if table in existing]
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=True, tables=tables):
            cursor.execute(statement)


def remove_guards(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=False, tables=APPEND_ONLY):
            cursor.execute(statement)
