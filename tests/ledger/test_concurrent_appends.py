"""Many appenders at once, and an auditor verifying while they append, on the real database."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from governance.ledger.chain import ledger_append, ledger_batch
from governance.ledger.models import LedgerEvent
from governance.ledger.verification import ChainBroken, verify_ledger

pytestmark = pytest.mark.django_db(transaction=True)

APPENDERS, EACH = 8, 15


@pytest.mark.parametrize("sealing", ["inline", "after_commit"])
@pytest.mark.parametrize("batched", [False, True], ids=["one at a time", "in batches"])
def test_concurrent_appends_never_fork_and_verification_meanwhile_raises_no_false_alarm(
    batched, sealing, settings
):
    settings.VALUEGATE_LEDGER_SEALING = sealing
    start = threading.Barrier(APPENDERS + 1)
    appending = threading.Event()
    appending.set()
    failures: list[BaseException] = []
    verified_runs = []

    def appender(index: int) -> None:
        try:
            start.wait()
            # In batches, a decision's events are written together when its service ends: three
            # at a time here, interleaved with other appenders' batches.
            step = 3 if batched else 1
            for first in range(0, EACH, step):
                with transaction.atomic(), ledger_batch() if batched else contextlib.nullcontext():
                    for n in range(first, first + step):
                        ledger_append(actor=None, action="test.append", payload={"thread": index, "n": n})
        except BaseException as error:  # collected and asserted below
            failures.append(error)
        finally:
            connection.close()

    def auditor() -> None:
        try:
            start.wait()
            while appending.is_set():
                verified_runs.append(verify_ledger(chunk_size=7).count)
        except ChainBroken as error:
            failures.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=appender, args=(i,)) for i in range(APPENDERS)]
    watcher = threading.Thread(target=auditor)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    appending.clear()
    watcher.join(timeout=120)

    assert failures == []
    assert verified_runs, "the auditor never finished a verification while appends ran"
    total = APPENDERS * EACH
    assert verify_ledger(strict=True).count == total
    assert list(LedgerEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    # Every decision's event made it, each appender's in its own order, and none is pending.
    assert not LedgerEvent.objects.filter(seq__isnull=True).exists()
    numbers = [json.loads(p) for p in LedgerEvent.objects.order_by("seq").values_list("payload", flat=True)]
    for index in range(APPENDERS):
        assert [p["n"] for p in numbers if p["thread"] == index] == list(range(EACH))
    if batched and sealing == "inline":
        # Sequenced inside its decision, each batch stayed together. (Sealed after commit, two
        # batches inserted at the same moment may interleave their ids, and so their seqs.)
        for start_at in range(0, total, 3):
            batch = numbers[start_at : start_at + 3]
            assert len({b["thread"] for b in batch}) == 1
            assert [b["n"] for b in batch] == list(range(batch[0]["n"], batch[0]["n"] + 3))
