"""The ledger's first guards, as they were when this migration was written (0008 replaces them)."""

from django.db import migrations

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


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in _statements(schema_editor.connection.vendor, install=True):
            cursor.execute(statement)


def remove(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in _statements(schema_editor.connection.vendor, install=False):
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_default_policies")]

    operations = [migrations.RunPython(install, remove)]
