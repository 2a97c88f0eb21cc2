"""Helpers for the ledger's auditor tools: real tampering, the commands, the export verifier."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from governance.ledger.chain import canonical_event_bytes, chain_rows, event_hash, ledger_append
from governance.ledger.guards import install_guards, remove_guards
from governance.models import LedgerEvent

ROOT = Path(__file__).resolve().parents[2]
VERIFY_EXPORT = ROOT / "tools" / "verify_export.py"
# The system interpreter, which has no Django; imports of Django are blocked as well, so the
# verifier is proven to run on the standard library alone wherever the test runs.
SYSTEM_PYTHON = next((p for p in ("/usr/bin/python3", "/bin/python3") if Path(p).exists()), sys.executable)
NO_DJANGO = (
    "import runpy, sys; sys.modules['django'] = None; sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def append(
    count: int, *, actor=None, initiative=None, action: str = "test.event", **payload
) -> list[LedgerEvent]:
    with transaction.atomic():
        return [
            ledger_append(actor=actor, action=action, initiative=initiative, payload={"n": n, **payload})
            for n in range(count)
        ]


def run_command(name: str, *args) -> tuple[int, str, str]:
    """Run a management command as an auditor would; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


def verify_export(*args, cwd=None) -> tuple[int, str]:
    done = subprocess.run(
        [SYSTEM_PYTHON, "-I", "-c", NO_DJANGO, str(VERIFY_EXPORT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT.parent,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


class Attacker:
    """Someone with the database file (SQLite) or a superuser login (PostgreSQL): drops the
    ledger's triggers, then rewrites rows with plain SQL."""

    def sql(self, statement: str, params=()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    def set_payload(self, seq: int, payload: str) -> None:
        self.sql("UPDATE governance_ledgerevent SET payload = %s WHERE seq = %s", [payload, seq])

    def delete(self, *seqs: int) -> None:
        for seq in seqs:
            self.sql("DELETE FROM governance_ledgerevent WHERE seq = %s", [seq])

    def set_head(self, seq: int) -> None:
        digest = LedgerEvent.objects.get(seq=seq).hash
        self.sql("UPDATE governance_ledgerhead SET seq = %s, hash = %s WHERE id = 1", [seq, digest])

    def swap(self, a: int, b: int) -> None:
        self.sql("UPDATE governance_ledgerevent SET seq = -1 WHERE seq = %s", [a])
        self.sql("UPDATE governance_ledgerevent SET seq = %s WHERE seq = %s", [a, b])
        self.sql("UPDATE governance_ledgerevent SET seq = %s WHERE seq = -1", [b])

    def rehash_last_as_stored(self) -> None:
        """Recompute the last event's hash over its stored bytes, whatever they are, and the head's."""
        last = LedgerEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        row = next(chain_rows(after_seq=last - 1))
        digest = hashlib.sha256(canonical_event_bytes(*row[:7])).hexdigest()
        self.sql("UPDATE governance_ledgerevent SET hash = %s WHERE seq = %s", [digest, last])
        self.sql("UPDATE governance_ledgerhead SET hash = %s WHERE id = 1", [digest])

    def recompute_from(self, seq: int) -> None:
        """Recompute every hash from `seq` on, and the head, so the chain is consistent again."""
        previous = LedgerEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
        for event in LedgerEvent.objects.filter(seq__gte=seq).order_by("seq"):
            digest = event_hash(
                seq=event.seq,
                recorded_at=event.recorded_at,
                actor=event.actor_name,
                action=event.action,
                initiative=event.initiative_id,
                payload=json.loads(event.payload),
                prev_hash=previous,
            )
            self.sql(
                "UPDATE governance_ledgerevent SET prev_hash = %s, hash = %s WHERE seq = %s",
                [previous, digest, event.seq],
            )
            previous = digest
        self.sql(
            "UPDATE governance_ledgerhead SET seq = (SELECT MAX(seq) FROM governance_ledgerevent), hash = %s "
            "WHERE id = 1",
            [previous],
        )


@pytest.fixture
def attacker(db):
    remove_guards(connection)
    try:
        yield Attacker()
    finally:
        install_guards(connection)


@contextlib.contextmanager
def clock(start: dt.datetime):
    """Events appended inside are recorded from `start` on, a millisecond apart."""
    ticks = iter(range(10**6))

    def now():
        return start + dt.timedelta(milliseconds=next(ticks))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("governance.ledger.chain.timezone.now", now)
        yield
