"""A decision costs a fixed, small number of statements, and reads what the full selectors read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from governance.notifications.models import Notification
from governance.reviews.facts import (
    decision_snapshot,
    facts_digest,
    gate_facts,
    initiative_with_gate_data,
    policy_rules,
    review_facts,
)
from governance.reviews.models import GateReview, SignOff
from governance.reviews.services import lock_review, review_open
from governance.reviews.signoffs import ConditionInput, signoff_record
from projects.vocabulary import Gate, Stage
from tests import factories
from tests.clock import configured_clock

FUNCTIONS = ("business", "legal", "finance", "technical")


@pytest.fixture(autouse=True)
def _sealed_after_commit(settings):
    """PostgreSQL's default: a decision only inserts its ledger events; they are sequenced after
    its COMMIT, outside the statements counted here."""
    settings.VALUEGATE_LEDGER_SEALING = "after_commit"


def transaction_statements(action) -> list[str]:
    """The statements of `action`'s transaction, BEGIN to COMMIT (not the relay that follows it)."""
    with CaptureQueriesContext(connection) as queries:
        action()
    statements = [q["sql"] for q in queries]
    return statements[: statements.index("COMMIT") + 1]


def sign(members, review, code, decision="approve", **kwargs):
    return signoff_record(
        actor=members[code], review=review, function=code, decision=decision, rationale="Reviewed.", **kwargs
    )


def heavy_pilot():
    """The scale gate with the most to read (and the pilot gate's open conditions, if any)."""
    return factories.pilot_with_everything_the_scale_gate_reads()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("gate", [Gate.PILOT, Gate.SCALE])
def test_the_sign_off_that_completes_a_review_and_advances_the_initiative_is_12_statements(gate):
    """BEGIN; lock the initiative (with the signer's seat) and the review; read the gate's data and
    the review's sign-offs in one statement; insert the sign-off; update the initiative's stage and
    the review's decision; read the chair's members (with their language and time zone); the lead's
    language and time zone; one insert for every notification; one insert of the ledger's three
    events, no ledger lock; COMMIT. The same on SQLite and PostgreSQL, light gate or
    heavy: what the gate reads grows the one read, not the count."""
    members = factories.committee()
    initiative = factories.proposal_ready_for_pilot_gate() if gate == Gate.PILOT else heavy_pilot()
    review = review_open(actor=initiative.owner, initiative=initiative, gate=gate)
    for code in FUNCTIONS[:-1]:
        sign(members, review, code)

    statements = transaction_statements(lambda: sign(members, review, "technical"))

    assert len(statements) == 12, "\n".join(s[:120] for s in statements)
    assert GateReview.objects.get(pk=review.pk).outcome == "go"
    expected = Stage.PILOT if gate == Gate.PILOT else Stage.SCALE
    assert type(initiative).objects.get(pk=initiative.pk).stage == expected
    # Only what a decision changes is written: no full-row UPDATE of the initiative or the review.
    updates = [s for s in statements if s.startswith("UPDATE")]
    assert all('"title"' not in s and '"opened_at"' not in s for s in updates)
    assert Notification.objects.filter(event_key=f"review-{review.pk}-decided").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_sign_off_that_leaves_the_review_open_is_9_statements_and_one_superseding_it_10():
    members = factories.committee()
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(actor=initiative.owner, initiative=initiative)
    sign(members, review, "business")  # the first decision of the process reads the policy and functions

    # ... of which one reads the lead's language and time zone, for the notification to them.
    assert len(transaction_statements(lambda: sign(members, review, "legal"))) == 9
    assert len(transaction_statements(lambda: sign(members, review, "legal"))) == 10
    assert SignOff.objects.filter(review=review, superseded_at__isnull=False).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("gate", [Gate.PILOT, Gate.SCALE])
def test_the_decision_snapshot_reads_the_very_facts_the_full_selectors_read(gate):
    """Digit for digit: the digest a sign-off pins is the one the checklist pages compute."""
    members = factories.committee()
    initiative = factories.proposal_ready_for_pilot_gate() if gate == Gate.PILOT else heavy_pilot()
    review = review_open(actor=initiative.owner, initiative=initiative, gate=gate)
    sign(
        members,
        review,
        "business",
        "approve_with_conditions",
        conditions=[
            ConditionInput(
                text="Retrain the agents.", due_on=configured_clock().date() + dt.timedelta(days=45)
            )
        ],
    )
    sign(members, review, "legal")
    with transaction.atomic():
        locked, review = lock_review(review.pk)
        rules = policy_rules(review.policy)
        seen = decision_snapshot(locked, review, rules)
        snapshot_facts = gate_facts(seen.data, rules, seen.open_conditions)
        full_facts = review_facts(initiative_with_gate_data(initiative.pk), rules, review)
    assert snapshot_facts == full_facts
    assert facts_digest(snapshot_facts) == facts_digest(full_facts)
    stored = list(SignOff.objects.filter(review=review).order_by("id"))
    assert [(s.id, s.function, s.reviewer_id, s.signed_at, s.digest) for s in seen.signoffs] == [
        (s.pk, s.function.code, s.reviewer_id, s.signed_at, s.digest) for s in stored
    ]


@pytest.mark.django_db
def test_saving_a_policy_a_committee_function_or_a_group_drops_the_process_copy():
    from django.contrib.auth.models import Group

    from governance.access.models import CommitteeFunction
    from governance.reviews import facts as gates
    from governance.reviews.models import GatePolicy

    for row in (GatePolicy.objects.first(), CommitteeFunction.objects.first(), Group.objects.first()):
        gates.committee_functions()
        gates.policy_by_id(GatePolicy.objects.first().pk)
        assert gates._static
        row.save()
        assert not gates._static


@pytest.mark.django_db(transaction=True)
def test_advancing_through_a_passing_gate_is_12_statements_and_opening_a_review_10():
    """Advance: BEGIN; the two locks; the requester's roles; the gate's data and sign-offs in one
    read; the stage and the decision; the chair's members (with their language and time zone); the
    lead's language and time zone; the notifications; the ledger's events; COMMIT. Opening: BEGIN;
    the lock; the requester's roles; no review open yet; the gate's current policy; the review; the
    members asked to sign, with their languages; the notifications; the ledger's event; COMMIT."""
    from governance.access.models import CommitteeFunction
    from governance.reviews.facts import signoff_digest
    from governance.reviews.services import initiative_advance

    members = factories.committee()
    warm_up = factories.proposal_ready_for_pilot_gate()
    # The first decision of the process reads the gate's policy and the committee functions.
    sign(members, review_open(actor=warm_up.owner, initiative=warm_up), "business")
    initiative = factories.proposal_ready_for_pilot_gate()

    opening = transaction_statements(lambda: review_open(actor=initiative.owner, initiative=initiative))
    assert len(opening) == 10, "\n".join(s[:120] for s in opening)

    review = GateReview.objects.get(initiative=initiative)
    digest = signoff_digest(initiative_with_gate_data(initiative.pk), review)
    for code in FUNCTIONS:  # approvals written directly: the review passes but has not advanced
        SignOff.objects.create(
            review=review,
            function=CommitteeFunction.objects.get(code=code),
            reviewer=members[code],
            decision="approve",
            rationale="ok",
            digest=digest,
        )
    advancing = transaction_statements(lambda: initiative_advance(actor=members["chair"], review=review))
    assert len(advancing) == 12, "\n".join(s[:120] for s in advancing)
    assert type(initiative).objects.get(pk=initiative.pk).stage == Stage.PILOT


@pytest.mark.django_db(transaction=True)
def test_recording_measurements_is_7_statements_whatever_their_number():
    """BEGIN; the initiative's lock; the lead's roles; the periods already measured; one insert;
    the ledger's event; COMMIT."""
    from governance.value.services import MeasurementInput, measurements_record
    from projects.models import KPI

    initiative = factories.proposal_ready_for_pilot_gate()
    review_open(actor=initiative.owner, initiative=initiative)
    kpi = KPI.objects.get(initiative=initiative)  # as a view has it: the initiative not loaded
    rows = [
        MeasurementInput(period=dt.date(2026, month, 1), value="12.5", sample_size=100, source="BI")
        for month in range(1, 11)
    ]
    statements = transaction_statements(
        lambda: measurements_record(actor=initiative.owner, kpi=kpi, measurements=rows)
    )
    assert len(statements) == 7, "\n".join(s[:120] for s in statements)
    assert kpi.measurements.count() == 10
