"""The dashboard's waiting reviews: the lists show the oldest few, the totals count every review,
each judged against the escalation days of the policy version it was opened under."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.access import roles
from governance.access.matrix import principal
from governance.reviews.models import GateReview
from governance.reviews.policies import policy_version_create
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.value.dashboard import LIST_LENGTH, portfolio_dashboard
from projects.models import FinancialEntry
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


def auditor():
    """Someone who sees the whole portfolio."""
    return factories.user_in(roles.AUDITORS, username="dashboard-auditor")


def open_review_aged(days: int, title: str) -> GateReview:
    initiative = factories.proposal_ready_for_pilot_gate(title=title)
    return review_open(
        actor=initiative.owner, initiative=initiative, now=configured_clock() - dt.timedelta(days=days)
    )


def test_totals_count_every_open_review_and_each_is_late_by_its_own_policy():
    # The first twelve reviews are pinned to the default pilot policy (escalation after 7 days).
    late = [open_review_aged(10 + i, f"Late {i}") for i in range(LIST_LENGTH + 2)]
    recent = open_review_aged(3, "Recent")
    admin = factories.user_in(roles.GOVERNANCE_ADMINS, username="policy-admin")
    policy_version_create(actor=admin, gate="pilot", escalation_days=30)
    # Under the new version: 12 days is not late any more, 40 days is.
    lenient = open_review_aged(12, "Within the new policy")
    very_late = open_review_aged(40, "Late under the new policy")

    data = portfolio_dashboard(auditor(), now=configured_clock())

    assert data.open_reviews_total == len(late) + 3
    assert data.escalations_total == len(late) + 1
    shown = [w.review for w in data.escalations]
    assert len(shown) == LIST_LENGTH and shown[0] == very_late  # the oldest first
    assert lenient not in shown and recent not in [w.review for w in data.escalations]
    assert [w.review for w in data.waiting_reviews][:2] == [very_late, late[-1]]
    assert all(w.overdue for w in data.escalations)


def test_with_no_open_review_nothing_waits_or_is_late():
    factories.proposal_ready_for_pilot_gate()
    data = portfolio_dashboard(auditor(), now=configured_clock())
    assert (data.open_reviews_total, data.escalations_total, data.waiting_reviews, data.escalations) == (
        0,
        0,
        (),
        (),
    )


def test_a_waiting_review_counts_its_active_sign_offs_only():
    members = factories.committee()
    review = open_review_aged(2, "Being signed")
    for function in ("business", "legal"):
        signoff_record(
            actor=members[function], review=review, function=function, decision="approve", rationale="Fine."
        )
    # Business signs again: the earlier one is superseded, not counted twice.
    signoff_record(
        actor=members["business"], review=review, function="business", decision="approve", rationale="Again."
    )
    (waiting,) = portfolio_dashboard(auditor(), now=configured_clock()).waiting_reviews
    assert waiting.review == review and waiting.active_signoffs == 2


def test_the_dashboard_reads_nine_queries_and_sums_the_running_figures(django_assert_num_queries):
    pilots = [factories.pilot_ready_for_scale_gate(title=f"Pilot {i}") for i in range(3)]
    for pilot in pilots:
        factories.FinancialEntryFactory(initiative=pilot, amount="2500.00", month=dt.date(2026, 2, 1))
    open_review_aged(10, "Waiting long")
    viewer = principal(auditor())  # the roles a request has read already
    with django_assert_num_queries(9):
        data = portfolio_dashboard(viewer, now=configured_clock())
    entries = FinancialEntry.objects.filter(initiative__in=pilots)
    assert data.totals["cost"] == sum(e.amount for e in entries if e.kind == "cost")
    assert data.totals["benefit"] == sum(e.amount for e in entries if e.kind == "benefit")
    assert [i.pk for i in data.top_investments] == sorted(
        (p.pk for p in pilots),
        # The largest first; among equals, the newest initiative first.
        key=lambda pk: (-sum(e.amount for e in entries if e.initiative_id == pk and e.kind == "cost"), -pk),
    )
