"""The portfolio's readiness column: the same verdict as the initiative page, in fixed queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.reviews.facts import next_gate_checklist
from governance.reviews.readiness import next_gate_readiness
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from projects.models import Initiative
from projects.vocabulary import Stage
from tests import factories

pytestmark = pytest.mark.django_db


def portfolio(members, copies: int):
    for _ in range(copies):
        factories.proposal_ready_for_pilot_gate()
        ready = factories.pilot_ready_for_scale_gate()
        review = review_open(actor=ready.owner, initiative=ready)
        signoff_record(
            actor=members["legal"], review=review, function="legal", decision="approve", rationale="ok"
        )
        factories.pilot_ready_for_scale_gate(risk_tier="high")
        factories.InitiativeFactory(stage=Stage.SCALE)
        factories.InitiativeFactory(stage=Stage.RETIRED)


def test_readiness_matches_each_initiative_s_own_checklist(members):
    portfolio(members, 1)
    now = timezone.now()
    readiness = next_gate_readiness(now=now)
    facing_a_gate = Initiative.objects.exclude(stage__in=[Stage.RETIRED, Stage.DRAFT, Stage.REJECTED])
    assert set(readiness) == set(facing_a_gate.values_list("pk", flat=True))
    for initiative_id, evaluation in readiness.items():
        assert evaluation == next_gate_checklist(initiative_id, now=now)
    legal = [r for e in readiness.values() for r in e.requirements if r.code == "signoff:legal" and r.passed]
    assert len(legal) == 1  # the one open review's legal approval counts, and only there


def queries_for_readiness() -> int:
    with CaptureQueriesContext(connection) as captured:
        next_gate_readiness(now=timezone.now())
    return len(captured)


def test_readiness_runs_the_same_queries_at_any_portfolio_size(members):
    portfolio(members, 1)
    small = queries_for_readiness()
    portfolio(members, 6)
    assert queries_for_readiness() == small == 12
