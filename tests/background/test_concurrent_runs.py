"""Two beat processes, or a task delivered twice at once: the periodic work still happens once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from governance.ledger.models import LedgerEvent
from governance.ledger.verification import verify_ledger
from governance.reviews.services import review_open
from governance.schedule import run_periodic_work
from governance.value.connectors.services import kpi_source_register
from tests.background.test_periodic import at, everything, failing_pilot, measure, overdue_pilot, portfolio
from tests.governance.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_runs_of_all_periodic_work_act_once(members):
    proposal = portfolio()["proposal"]
    review_open(actor=proposal.owner, initiative=proposal, now=at("2026-04-01T00:00:00+00:00"))
    overdue_pilot(dt.date(2026, 3, 1))
    _, kpi = failing_pilot()
    for month in (1, 2, 3):
        measure(kpi, month, "11")
    drops = Path(settings.VALUEGATE_KPI_CONNECTORS["file-drops"]["directory"])
    drops.mkdir(parents=True)
    (drops / "proposal.csv").write_text("period,value\n2026-01-01,12\n2026-02-01,12.5\n")
    kpi_source_register(
        actor=proposal.owner, kpi=proposal.kpis.get(), connector="file-drops", query="proposal.csv"
    )
    now = at("2026-04-20T06:00:00+00:00")

    results = run_together(lambda _: run_periodic_work(now=now), 2)

    assert all(isinstance(r, dict) for r in results), results
    totals = {name: sum(r[name] for r in results) for name in results[0]}
    assert totals == {
        "KPIs measured from source": 2,  # both runs read the file; one records its months
        "sign-off follow-ups": 8,
        "exit criteria": 2,
        "perpetual pilots": 1,
        "value reviews": 4,
        "expired idempotency keys": 0,
        "ledger events sequenced": 0,
        "ledger checkpoints published": 1,  # one, not one per run
    }
    assert everything() | {"ledger": 0, "notifications": 0} == {
        "ledger": 0,
        "notifications": 0,
        "reviews": 3,  # the proposal's, the overdue pilot's scale review, the failing pilot's retire review
        "follow_ups": 8,
        "escalations": 1,
        "value_reviews": 4,
        "breaches": 1,
    }
    system_events = Counter(LedgerEvent.objects.filter(actor_name="system").values_list("action", flat=True))
    assert system_events == {
        "kpi.measurements_recorded": 1,  # the two months read from the file, once
        "signoff.reminded": 1,
        "signoff.escalated": 1,
        "exit_criteria.met": 1,
        "pilot.escalated": 1,
        "review.opened": 2,
        "value_review.opened": 4,
    }
    assert verify_ledger().count == LedgerEvent.objects.count()
