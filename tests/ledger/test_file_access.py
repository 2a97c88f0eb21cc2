"""An attacker who opens the SQLite file itself, outside ValueGate, is still caught."""

from __future__ import annotations

import json
import sqlite3

import pytest
from django.db import connection

from tests.ledger.conftest import append, run_command

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the database is a file on SQLite only"),
    pytest.mark.django_db(transaction=True),
]


def test_rows_rewritten_through_the_database_file_are_caught():
    events = append(6)
    connection.close()

    with sqlite3.connect(connection.settings_dict["NAME"]) as raw:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM governance_ledgerevent WHERE seq = 6")
        raw.execute("DROP TRIGGER ledger_refuse_update")
        raw.execute("DROP TRIGGER ledger_refuse_delete")
        edited = json.loads(events[2].payload) | {"n": 99}
        raw.execute(
            "UPDATE governance_ledgerevent SET payload = ? WHERE seq = 3",
            [json.dumps(edited, sort_keys=True, separators=(",", ":"))],
        )
        raw.execute("DELETE FROM governance_ledgerevent WHERE seq = 6")
        raw.execute("UPDATE governance_ledgerhead SET seq = 5, hash = ? WHERE id = 1", [events[4].hash])
    raw.close()

    code, _, err = run_command("verify_ledger")
    assert code == 1
    assert "FAILED at event #3: its content does not match its hash: it was edited" in err
