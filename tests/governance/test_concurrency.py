"""Races on the real database: one winner, one ledger event, a chain that never forks."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from governance.access.models import CommitteeFunction
from governance.errors import WrongStage
from governance.ledger.chain import ledger_append
from governance.ledger.models import LedgerEvent
from governance.ledger.verification import verify_ledger
from governance.reviews.facts import initiative_with_gate_data, signoff_digest
from governance.reviews.models import GateReview, SignOff
from governance.reviews.services import initiative_advance, review_open
from projects.models import Initiative
from projects.vocabulary import Stage
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(target, count: int):
    """Start `count` threads at one barrier; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_concurrent_advances_of_one_initiative_make_exactly_one_transition():
    members = factories.committee()
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    digest = signoff_digest(initiative_with_gate_data(initiative.pk), review)
    # Approvals written directly, so that the review passes but has not advanced yet.
    for code in ("business", "legal", "finance", "technical"):
        SignOff.objects.create(
            review=review,
            function=CommitteeFunction.objects.get(code=code),
            reviewer=members[code],
            decision="approve",
            rationale="ok",
            digest=digest,
        )

    results = run_together(lambda _: initiative_advance(actor=members["chair"], review=review), 2)

    assert sum(isinstance(r, GateReview) for r in results) == 1
    assert sum(isinstance(r, WrongStage) for r in results) == 1, results
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.SCALE
    assert LedgerEvent.objects.filter(action="initiative.transitioned").count() == 1
    assert LedgerEvent.objects.filter(action="review.decided").count() == 1


def test_concurrent_appends_keep_the_chain_gapless_and_unforked():
    from django.db import transaction

    def append_many(index):
        for n in range(10):
            with transaction.atomic():
                ledger_append(actor=None, action="test.append", payload={"thread": index, "n": n})

    results = run_together(append_many, 6)
    assert results == [None] * 6
    count = verify_ledger().count
    assert count == 60
    assert list(LedgerEvent.objects.values_list("seq", flat=True)) == list(range(1, 61))
