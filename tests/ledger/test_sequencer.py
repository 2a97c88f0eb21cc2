"""The sequencer: decisions write without a lock, committed events are sealed in order, a crash
mid-batch loses nothing, and a row forged into the queue is never sealed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection, transaction

from governance.ledger.chain import ledger_append
from governance.ledger.guards import install_guards, remove_guards
from governance.ledger.models import LedgerEvent, LedgerHead, LedgerTreeNode
from governance.ledger.sequencer import seal_pending
from governance.ledger.verification import ChainBroken, verify_ledger

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def after_commit(settings, monkeypatch):
    settings.VALUEGATE_LEDGER_SEALING = "after_commit"


@pytest.fixture
def no_after_commit_sealing(after_commit, monkeypatch):
    """Decisions commit their events but nobody seals them: what a process dying after commit leaves."""
    monkeypatch.setattr("governance.ledger.chain.seal_after_commit", lambda event_ids: None)


def decide(count: int, *, n0: int = 0) -> None:
    for n in range(n0, n0 + count):
        with transaction.atomic():
            ledger_append(actor=None, action="test.event", payload={"n": n})


@pytest.mark.django_db
def test_a_decision_after_commit_only_inserts_its_event_and_takes_no_lock(
    after_commit, django_assert_num_queries
):
    with transaction.atomic():
        with django_assert_num_queries(1) as captured:
            event = ledger_append(actor=None, action="test.event", payload={"n": 1})
    assert captured.captured_queries[0]["sql"].startswith("INSERT")
    assert event.seq is None and event.signature and event.key_id


@pytest.mark.django_db(transaction=True)
def test_committed_events_are_sealed_right_after_their_commit_in_order(after_commit):
    decide(5)
    events = list(LedgerEvent.objects.order_by("seq").values_list("seq", "payload"))
    assert events == [(n + 1, f'{{"n":{n}}}') for n in range(5)]
    assert LedgerHead.objects.get().seq == 5
    assert verify_ledger().count == 5


@pytest.mark.django_db(transaction=True)
def test_what_no_after_commit_hook_sealed_is_sealed_by_the_periodic_job(no_after_commit_sealing):
    from governance.schedule import run_periodic_work
    from tests.clock import configured_clock

    decide(3)
    assert LedgerEvent.objects.filter(seq__isnull=True).count() == 3
    assert verify_ledger().pending == 3  # genuine and waiting, not an alarm
    done = run_periodic_work(now=configured_clock())
    assert done["ledger events sequenced"] == 3
    assert not LedgerEvent.objects.filter(seq__isnull=True).exists()
    assert verify_ledger().count == 3


KILLED_MID_BATCH = textwrap.dedent(
    """
    import os, signal, django
    django.setup()
    from governance.ledger import sequencer
    sealed_batch = sequencer._seal

    def seal_then_die(*args, **kwargs):
        sealed_batch(*args, **kwargs)  # seqs assigned and nodes inserted, not committed
        os.kill(os.getpid(), signal.SIGKILL)

    sequencer._seal = seal_then_die
    sequencer.seal_pending()
    """
)


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return f"sqlite:///{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_killed_mid_batch_leaves_every_event_for_the_next_run(no_after_commit_sealing):
    decide(2)
    seal_pending()
    decide(4, n0=2)
    before = (LedgerHead.objects.get().seq, LedgerTreeNode.objects.count())
    connection.close()  # SQLite: let the other process take the write lock
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_BATCH],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Nothing of the dead batch is left behind: no seq, no node, the head where it was.
    assert LedgerEvent.objects.filter(seq__isnull=True).count() == 4
    assert (LedgerHead.objects.get().seq, LedgerTreeNode.objects.count()) == before
    assert seal_pending().sealed == 4
    summary = verify_ledger()
    assert (summary.count, summary.pending) == (6, 0)
    assert list(LedgerEvent.objects.order_by("seq").values_list("payload", flat=True)) == [
        f'{{"n":{n}}}' for n in range(6)
    ]


@pytest.mark.django_db
def test_a_row_forged_into_the_queue_is_never_sealed_and_verification_names_it():
    decide(2)
    forged = LedgerEvent.objects.get(seq=2)
    remove_guards(connection)
    try:
        LedgerEvent.objects.bulk_create(
            [
                LedgerEvent(
                    recorded_at=forged.recorded_at,
                    actor_name="mallory",
                    action="test.event",
                    payload='{"n":99}',
                    nonce="0" * 32,
                    key_id=forged.key_id,
                    signature=forged.signature,  # a genuine signature, of another event
                    hash="f" * 64,
                )
            ]
        )
    finally:
        install_guards(connection)
    result = seal_pending()
    assert (result.sealed, len(result.refused)) == (0, 1)
    assert LedgerEvent.objects.filter(seq__isnull=True).count() == 1
    with pytest.raises(ChainBroken, match="waiting to be sequenced is not genuine: it was forged"):
        verify_ledger()


@pytest.mark.django_db
def test_the_database_lets_the_sequencer_set_a_seq_once_and_nothing_else():
    from django.db.utils import DatabaseError

    decide(1)
    event = LedgerEvent.objects.get()
    for statement in (
        "UPDATE governance_ledgerevent SET seq = 7 WHERE id = %s",  # a second numbering
        "UPDATE governance_ledgerevent SET payload = '{}' WHERE id = %s",
        "DELETE FROM governance_ledgerevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE governance_ledgertreenode SET hash = 'x'")
