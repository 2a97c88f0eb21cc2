"""The portfolio's readiness column: the same verdict as the initiative page, read a chunk of
initiatives at a time in a fixed number of queries per chunk."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.reviews.facts import next_gate_checklist
from governance.reviews.readiness import CHUNK_SIZE, iter_next_gate_readiness, next_gate_readiness
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from projects.models import Initiative
from projects.vocabulary import Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

NOW = configured_clock()
FACING_PER_COPY = 4  # a proposal, two pilots and a scale initiative; the retired one faces no gate


def portfolio(members, copies: int) -> None:
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


@pytest.mark.parametrize("chunk_size", [CHUNK_SIZE, 2])
def test_readiness_matches_each_initiative_s_own_checklist(members, chunk_size):
    portfolio(members, 1)
    walked = list(iter_next_gate_readiness(now=NOW, chunk_size=chunk_size))
    ids = [initiative_id for initiative_id, _ in walked]
    facing_a_gate = Initiative.objects.exclude(stage__in=[Stage.RETIRED, Stage.DRAFT, Stage.REJECTED])
    assert ids == sorted(facing_a_gate.values_list("pk", flat=True))  # each once, across chunks
    for initiative_id, evaluation in walked:
        assert evaluation == next_gate_checklist(initiative_id, now=NOW)
    legal = [r for _, e in walked for r in e.requirements if r.code == "signoff:legal" and r.passed]
    assert len(legal) == 1  # the one open review's legal approval counts, and only there


def test_readiness_of_a_few_initiatives_is_a_mapping_of_their_evaluations(members):
    portfolio(members, 2)
    some = Initiative.objects.filter(stage=Stage.PILOT)
    readiness = next_gate_readiness(some, now=NOW, chunk_size=3)
    assert set(readiness) == set(some.values_list("pk", flat=True)) and len(readiness) == 4
    assert all(readiness[pk] == next_gate_checklist(pk, now=NOW) for pk in readiness)


def queries_for_readiness(*, chunk_size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        for _ in iter_next_gate_readiness(now=NOW, chunk_size=chunk_size):
            pass
    return len(captured)


@pytest.mark.parametrize(
    ("copies", "chunk_size", "queries"),
    [
        (0, CHUNK_SIZE, 1),  # nothing faces a gate: the first chunk's read finds nothing
        (1, CHUNK_SIZE, 12),  # 4 initiatives, one chunk: 11 queries and the policies
        (7, CHUNK_SIZE, 12),  # 28 initiatives, still one chunk
        (2, 4, 23),  # 8 initiatives, two full chunks: no further read to find the end
        (2, 3, 34),  # 8 initiatives in chunks of 3, 3 and 2
        (7, 10, 34),  # 28 initiatives in chunks of 10, 10 and 8
    ],
)
def test_readiness_reads_eleven_queries_a_chunk_whatever_the_chunk_holds(
    members, copies, chunk_size, queries
):
    portfolio(members, copies)
    assert Initiative.objects.filter(stage__in=[Stage.PROPOSAL, Stage.PILOT, Stage.SCALE]).count() == (
        FACING_PER_COPY * copies
    )
    assert queries_for_readiness(chunk_size=chunk_size) == queries


def test_the_walk_reads_each_chunk_only_when_the_caller_reaches_it(members):
    portfolio(members, 2)
    walk = iter_next_gate_readiness(now=NOW, chunk_size=3)
    with CaptureQueriesContext(connection) as first:
        next(walk)
    with CaptureQueriesContext(connection) as rest:
        remaining = list(walk)
    assert len(first) == 12  # the first chunk and the policies, nothing of the other chunks
    assert len(rest) == 22 and len(remaining) == 2 * FACING_PER_COPY - 1
