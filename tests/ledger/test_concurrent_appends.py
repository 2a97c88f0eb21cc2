"""Many appenders at once, and an auditor verifying while they append, on the real database."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from governance.ledger.chain import ledger_append, ledger_batch
from governance.ledger.verification import ChainBroken, verify_ledger
from governance.ledger.models import LedgerEvent

pytestmark = pytest.mark.django_db(transaction=True)

APPENDERS, EACH = 8, 15


@pytest.mark.parametrize("batched", [False, True], ids=["one at a time", "in batches"])
def test_concurrent_appends_never_fork_and_verification_meanwhile_raises_no_false_alarm(batched):
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
    # Exactly one successor each: every hash but the last is the previous hash of one event.
    hashes = list(LedgerEvent.objects.order_by("seq").values_list("hash", flat=True))
    successors = {}
    for prev in LedgerEvent.objects.values_list("prev_hash", flat=True):
        successors[prev] = successors.get(prev, 0) + 1
    assert all(successors.get(h) == 1 for h in hashes[:-1]) and hashes[-1] not in successors
    if batched:  # each batch stayed together, in the order its events were appended
        payloads = [
            json.loads(p) for p in LedgerEvent.objects.order_by("seq").values_list("payload", flat=True)
        ]
        for start_at in range(0, total, 3):
            batch = payloads[start_at : start_at + 3]
            assert len({b["thread"] for b in batch}) == 1
            assert [b["n"] for b in batch] == list(range(batch[0]["n"], batch[0]["n"] + 3))
