"""A service's ledger events written together: in order, chained, once; dropped with a failure."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from governance.ledger.chain import ledger_append, ledger_batch
from governance.ledger.models import LedgerEvent
from governance.ledger.sequencer import seal_pending
from governance.ledger.verification import verify_ledger
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from tests import factories

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(LedgerEvent.objects.order_by("seq").values_list("action", flat=True))


def test_a_batch_writes_its_events_in_order_when_it_ends_and_the_chain_holds():
    with transaction.atomic():
        ledger_append(actor=None, action="test.before", payload={})
        with ledger_batch():
            for n in range(3):
                assert ledger_append(actor=None, action="test.batched", payload={"n": n}) is None
            with ledger_batch():  # a nested block joins the outer one
                ledger_append(actor=None, action="test.nested", payload={})
            assert actions() == ["test.before"]  # nothing written yet
        ledger_append(actor=None, action="test.after", payload={})
    assert actions() == [
        "test.before",
        "test.batched",
        "test.batched",
        "test.batched",
        "test.nested",
        "test.after",
    ]
    assert [
        json.loads(p).get("n") for p in LedgerEvent.objects.order_by("seq").values_list("payload", flat=True)
    ][1:4] == [0, 1, 2]
    assert verify_ledger(strict=True).count == 6


def test_a_batch_that_fails_writes_nothing_and_the_next_append_chains_on_the_old_head():
    with transaction.atomic():
        ledger_append(actor=None, action="test.kept", payload={})
    with pytest.raises(RuntimeError), transaction.atomic(), ledger_batch():
        ledger_append(actor=None, action="test.dropped", payload={})
        raise RuntimeError("the decision failed")
    with transaction.atomic():
        ledger_append(actor=None, action="test.next", payload={})
    assert actions() == ["test.kept", "test.next"]
    assert verify_ledger(strict=True).count == 2


def test_a_payload_that_cannot_be_encoded_is_refused_where_it_is_appended_not_at_the_end():
    with pytest.raises((TypeError, ValueError)), transaction.atomic(), ledger_batch():
        ledger_append(actor=None, action="test.bad", payload={"value": float("nan")})
    assert actions() == []


@pytest.mark.django_db(transaction=True)
def test_a_batch_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the decision's transaction"), ledger_batch():
        pass


def test_the_last_sign_off_writes_its_three_events_in_one_insert_and_takes_no_ledger_lock(settings):
    """Sealed after commit (PostgreSQL's default), a decision's events lock nothing of the ledger:
    decisions about different initiatives no longer queue on one row."""
    settings.VALUEGATE_LEDGER_SEALING = "after_commit"
    members = factories.committee()
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    for code in ("business", "legal", "finance"):
        signoff_record(
            actor=members[code], review=review, function=code, decision="approve", rationale="Fine."
        )
    seal_pending()  # what the after-commit hook does once the test's transaction would commit

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        signoff_record(
            actor=members["technical"],
            review=review,
            function="technical",
            decision="approve",
            rationale="Fine.",
        )
    ledger_statements = [
        q["sql"] for q in queries if "governance_ledger" in q["sql"] or "advisory" in q["sql"]
    ]
    assert len(ledger_statements) == 1 and ledger_statements[0].startswith("INSERT")
    assert list(LedgerEvent.objects.filter(seq__isnull=True).values_list("action", flat=True)) == [
        "signoff.recorded",
        "review.decided",
        "initiative.transitioned",
    ]
    assert seal_pending().sealed == 3
    assert actions()[-3:] == ["signoff.recorded", "review.decided", "initiative.transitioned"]
    assert verify_ledger(strict=True).count == LedgerEvent.objects.count()
