"""Helpers for the ledger's auditor tools: real tampering, the commands, the export verifier."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from governance.ledger.chain import ledger_append
from governance.ledger.content import leaf_hash_hex, sign_event
from governance.ledger.guards import install_guards, remove_guards
from governance.ledger.merkle import TreeBuilder
from governance.ledger.models import LedgerEvent, LedgerTreeNode
from governance.ledger.signing import SigningKey
from governance.ledger.verification import leaf_of, row_of

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
    """Someone with the database file (SQLite) or a superuser login (PostgreSQL), but not the
    signing key: drops the ledger's triggers, then rewrites rows with plain SQL."""

    def sql(self, statement: str, params=()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    def set_column(self, seq: int, column: str, value) -> None:
        self.sql(f"UPDATE governance_ledgerevent SET {column} = %s WHERE seq = %s", [value, seq])

    def set_payload(self, seq: int, payload: str) -> None:
        self.set_column(seq, "payload", payload)

    def delete(self, *seqs: int) -> None:
        for seq in seqs:
            self.sql("DELETE FROM governance_ledgerevent WHERE seq = %s", [seq])

    def renumber(self) -> None:
        """Close the gaps left by deletions, keeping the order."""
        for new, event_id in enumerate(LedgerEvent.objects.order_by("seq").values_list("id", flat=True), 1):
            self.sql("UPDATE governance_ledgerevent SET seq = %s WHERE id = %s", [-new, event_id])
        self.sql("UPDATE governance_ledgerevent SET seq = -seq WHERE seq < 0")

    def swap(self, a: int, b: int) -> None:
        self.sql("UPDATE governance_ledgerevent SET seq = -1 WHERE seq = %s", [a])
        self.sql("UPDATE governance_ledgerevent SET seq = %s WHERE seq = %s", [a, b])
        self.sql("UPDATE governance_ledgerevent SET seq = %s WHERE seq = -1", [b])

    def rehash(self, seq: int) -> None:
        """Recompute event #seq's leaf hash over its stored columns, as they now are (no key to re-sign)."""
        event = LedgerEvent.objects.get(seq=seq)
        self.set_column(seq, "hash", leaf_of(row_of(event)))

    def rebuild_tree(self) -> None:
        """Recompute the tree's nodes and the head from the events as they now are."""
        self.sql("DELETE FROM governance_ledgertreenode")
        builder, nodes = TreeBuilder(), []
        for initiative, digest, signature in (
            LedgerEvent.objects.filter(seq__isnull=False)
            .order_by("seq")
            .values_list("initiative_id", "hash", "signature")
        ):
            leaf = digest if signature else leaf_hash_hex(initiative, digest)
            nodes += builder.append(bytes.fromhex(leaf))
        LedgerTreeNode.objects.bulk_create(
            [LedgerTreeNode(level=level, index=index, hash=node.hex()) for level, index, node in nodes]
        )
        frontier = " ".join(node.hex() for _level, node in builder.frontier)
        self.sql(
            "UPDATE governance_ledgerhead SET seq = %s, hash = %s, frontier = %s WHERE id = 1",
            [builder.size, builder.root().hex(), frontier],
        )

    def forge_append(self, *, actor_name: str = "mallory", action: str = "test.event", **columns) -> int:
        """Insert a made-up event after the last one (signed with a key of the attacker's own),
        and extend the tree and head over it."""
        last = LedgerEvent.last_seq()
        forger = SigningKey.generate("valuegate.test/ledger")
        at = "2026-01-01T00:00:00.000000Z"
        digest, signature = sign_event(
            forger,
            recorded_at=at,
            actor_id=None,
            actor=actor_name,
            action=action,
            initiative=None,
            nonce="00" * 16,
            payload='{"n":0}',
        )
        values = {
            "seq": last + 1,
            "recorded_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "actor_name": actor_name,
            "action": action,
            "payload": '{"n":0}',
            "nonce": "00" * 16,
            "key_id": columns.pop("key_id", None) or forger.key_id,
            "signature": signature,
            "hash": digest,
            **columns,
        }
        LedgerEvent.objects.bulk_create([LedgerEvent(**values)])
        self.rebuild_tree()
        return last + 1


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
