"""The committee's periodic work: each job's effect, its ledger events and notifications, done once."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from governance.ledger.models import LedgerEvent
from governance.notifications.models import Notification
from governance.oversight.models import ExitCriteriaBreach, PilotEscalation, SignOffFollowUp
from governance.reviews.models import GateReview
from governance.reviews.services import review_hold, review_open
from governance.reviews.signoffs import signoff_record
from governance.schedule import (
    exit_criteria_enforce,
    overdue_signoffs_chase,
    perpetual_pilots_escalate,
    run_periodic_work,
    value_reviews_open,
)
from governance.value.connectors.services import kpi_source_register
from governance.value.models import ValueReview
from projects.models import Initiative
from projects.vocabulary import EntryKind, Stage
from tests import factories

pytestmark = pytest.mark.django_db
UTC = dt.UTC
FOUR = ("business", "legal", "finance", "technical")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def actions(initiative=None) -> list[str]:
    events = LedgerEvent.objects.order_by("seq")
    if initiative is not None:
        events = events.filter(initiative=initiative)
    return list(events.values_list("action", flat=True))


def recipients(event_key: str) -> set[str]:
    return set(Notification.objects.filter(event_key=event_key).values_list("recipient__username", flat=True))


def everything() -> dict[str, int]:
    """What the jobs leave behind, to show that a second run adds nothing."""
    return {
        "ledger": LedgerEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "reviews": GateReview.objects.count(),
        "follow_ups": SignOffFollowUp.objects.count(),
        "escalations": PilotEscalation.objects.count(),
        "value_reviews": ValueReview.objects.count(),
        "breaches": ExitCriteriaBreach.objects.count(),
    }


# Overdue sign-offs ---------------------------------------------------------------------------


@pytest.fixture
def review_awaiting_signoffs(members):
    initiative = factories.pilot_ready_for_scale_gate()
    return review_open(actor=initiative.owner, initiative=initiative, now=at("2026-03-02T09:00:00+00:00"))


def test_each_awaited_function_is_reminded_after_the_policy_s_reminder_days(review_awaiting_signoffs):
    review = review_awaiting_signoffs
    assert overdue_signoffs_chase(now=at("2026-03-05T08:59:00+00:00")) == 0  # 3 days not yet over

    assert overdue_signoffs_chase(now=at("2026-03-05T09:00:00+00:00")) == 4
    for function in FOUR:
        assert recipients(f"review-{review.pk}-{function}-reminder") == {f"{function}-member"}
    reminded = LedgerEvent.objects.get(action="signoff.reminded")
    assert reminded.actor_name == "system"
    assert json.loads(reminded.payload)["functions"] == list(FOUR)


def test_the_chair_is_told_of_the_functions_still_silent_after_the_escalation_days(
    review_awaiting_signoffs, members
):
    review = review_awaiting_signoffs
    overdue_signoffs_chase(now=at("2026-03-05T10:00:00+00:00"))
    signoff_record(
        actor=members["business"],
        review=review,
        function="business",
        decision="approve",
        rationale="ok",
        now=at("2026-03-06T10:00:00+00:00"),
    )
    assert overdue_signoffs_chase(now=at("2026-03-09T09:00:00+00:00")) == 3
    key = f"review-{review.pk}-escalated-legal-finance-technical"
    assert recipients(key) == {"chair"}
    assert "legal, finance, technical" in Notification.objects.get(event_key=key).subject
    assert actions()[-1] == "signoff.escalated"


def test_chasing_twice_or_after_the_review_is_decided_sends_nothing_more(review_awaiting_signoffs, members):
    overdue_signoffs_chase(now=at("2026-03-20T00:00:00+00:00"))
    before = everything()
    assert overdue_signoffs_chase(now=at("2026-03-20T00:00:00+00:00")) == 0
    assert overdue_signoffs_chase(now=at("2026-04-20T00:00:00+00:00")) == 0
    assert everything() == before
    assert before["follow_ups"] == 8  # a reminder and an escalation per function, once

    other = factories.pilot_ready_for_scale_gate()
    decided = review_open(actor=other.owner, initiative=other, now=at("2026-03-02T09:00:00+00:00"))
    review_hold(
        actor=members["chair"],
        review=decided,
        reason="Waiting for Q2 numbers",
        revisit_on=dt.date(2026, 6, 1),
        now=at("2026-03-03T09:00:00+00:00"),
    )
    assert overdue_signoffs_chase(now=at("2026-03-30T00:00:00+00:00")) == 0
    assert not SignOffFollowUp.objects.filter(review=decided).exists()


# Perpetual pilots ----------------------------------------------------------------------------


def overdue_pilot(deadline: dt.date) -> Initiative:
    initiative = factories.pilot_ready_for_scale_gate()
    Initiative.objects.filter(pk=initiative.pk).update(pilot_deadline=deadline)
    initiative.refresh_from_db()
    return initiative


def test_a_pilot_past_its_deadline_is_flagged_the_chair_told_and_a_scale_or_kill_review_opened_once(
    members,
):
    pilot = overdue_pilot(dt.date(2026, 3, 1))
    assert perpetual_pilots_escalate(now=at("2026-03-01T23:59:00+00:00")) == 0  # the deadline day itself

    assert perpetual_pilots_escalate(now=at("2026-03-02T06:00:00+00:00")) == 1
    review = GateReview.objects.get(initiative=pilot, status="open")
    assert review.gate == "scale" and review.requested_by is None
    assert PilotEscalation.objects.get(initiative=pilot).review == review
    assert actions(pilot)[-2:] == ["pilot.escalated", "review.opened"]
    opened = LedgerEvent.objects.filter(action="review.opened", initiative=pilot).last()
    assert opened.actor_name == "system"
    assert "passed its deadline of 2026-03-01" in json.loads(opened.payload)["reason"]
    assert recipients(f"pilot-{pilot.pk}-overdue-20260301") == {"chair", pilot.owner.username}
    assert recipients(f"review-{review.pk}-opened") == {f"{f}-member" for f in FOUR}

    before = everything()
    assert perpetual_pilots_escalate(now=at("2026-03-02T07:00:00+00:00")) == 0
    assert perpetual_pilots_escalate(now=at("2026-05-01T07:00:00+00:00")) == 0
    assert everything() == before


def test_a_pilot_past_its_deadline_with_a_review_open_is_flagged_without_a_second_review(members):
    pilot = overdue_pilot(dt.date(2026, 3, 1))
    open_review = review_open(actor=pilot.owner, initiative=pilot, now=at("2026-02-20T00:00:00+00:00"))
    assert perpetual_pilots_escalate(now=at("2026-03-10T00:00:00+00:00")) == 1
    assert list(GateReview.objects.filter(initiative=pilot)) == [open_review]
    assert PilotEscalation.objects.get(initiative=pilot).review == open_review
    assert recipients(f"pilot-{pilot.pk}-overdue-20260301") == {"chair", pilot.owner.username}
    assert "still undecided" in Notification.objects.filter(event_key__startswith="pilot-").first().body


def test_a_reviewer_may_sign_the_review_ValueGate_opened(members):  # noqa: N802 - the product's name
    pilot = overdue_pilot(dt.date(2026, 3, 1))
    perpetual_pilots_escalate(now=at("2026-03-02T00:00:00+00:00"))
    review = GateReview.objects.get(initiative=pilot, status="open")
    for function in FOUR:
        signoff_record(
            actor=members[function], review=review, function=function, decision="approve", rationale="ok"
        )
    pilot.refresh_from_db()
    assert pilot.stage == Stage.SCALE


# Exit criteria -------------------------------------------------------------------------------


def failing_pilot(missed_periods: int = 3) -> tuple[Initiative, object]:
    """A pilot since January 2026 whose primary KPI (target 13) is measured monthly."""
    initiative = factories.InitiativeFactory(
        stage=Stage.PILOT,
        stage_entered_at=at("2026-01-05T00:00:00+00:00"),
        pilot_deadline=dt.date(2026, 12, 31),
    )
    factories.BusinessCaseFactory(initiative=initiative, missed_periods_to_retire=missed_periods)
    kpi = factories.KPIFactory(
        initiative=initiative, name="Conversion rate", baseline=Decimal("10"), target=Decimal("13")
    )
    return initiative, kpi


def measure(kpi, month: int, value: str) -> None:
    factories.MeasurementFactory(kpi=kpi, period=dt.date(2026, month, 1), value=Decimal(value))


def test_a_kpi_missing_its_target_for_the_business_case_s_periods_opens_a_retire_review_once(members):
    pilot, kpi = failing_pilot(missed_periods=3)
    measure(kpi, 1, "11")
    measure(kpi, 2, "11.5")
    assert exit_criteria_enforce(now=at("2026-03-10T00:00:00+00:00")) == 0
    assert not GateReview.objects.filter(initiative=pilot).exists()

    measure(kpi, 3, "12")
    assert exit_criteria_enforce(now=at("2026-04-10T00:00:00+00:00")) == 2  # the breach and its review
    review = GateReview.objects.get(initiative=pilot)
    assert (review.gate, review.status, review.requested_by) == ("retire", "open", None)
    breach = ExitCriteriaBreach.objects.get()
    assert (breach.first_missed_period, breach.missed_periods, breach.review) == (
        dt.date(2026, 1, 1),
        3,
        review,
    )
    assert actions(pilot) == ["exit_criteria.met", "review.opened"]
    assert recipients(f"exit-criteria-{pilot.pk}-{breach.pk}") == {"chair", pilot.owner.username}

    measure(kpi, 4, "12.1")  # the same run of misses goes on: no second review
    before = everything()
    assert exit_criteria_enforce(now=at("2026-05-10T00:00:00+00:00")) == 0
    assert everything() == before


def test_a_hit_ends_the_run_of_misses(members):
    pilot, kpi = failing_pilot(missed_periods=3)
    for month, value in ((1, "11"), (2, "11"), (3, "13.5"), (4, "11"), (5, "11")):
        measure(kpi, month, value)
    assert exit_criteria_enforce(now=at("2026-06-10T00:00:00+00:00")) == 0


def test_with_a_scale_review_open_the_retire_review_waits_for_its_decision(members):
    pilot, kpi = failing_pilot(missed_periods=3)
    scale_review = review_open(
        actor=pilot.owner, initiative=pilot, gate="scale", now=at("2026-03-20T00:00:00+00:00")
    )
    for month in (1, 2, 3):
        measure(kpi, month, "11")
    assert exit_criteria_enforce(now=at("2026-04-10T00:00:00+00:00")) == 1
    assert list(GateReview.objects.filter(initiative=pilot)) == [scale_review]
    breach = ExitCriteriaBreach.objects.get()
    assert breach.review is None
    assert (
        "as soon as the open scale gate review is decided"
        in Notification.objects.get(
            event_key=f"exit-criteria-{pilot.pk}-{breach.pk}", recipient=members["chair"]
        ).body
    )

    review_hold(
        actor=members["chair"],
        review=scale_review,
        reason="Retirement first",
        revisit_on=dt.date(2026, 7, 1),
        now=at("2026-04-11T00:00:00+00:00"),
    )
    assert exit_criteria_enforce(now=at("2026-04-12T00:00:00+00:00")) == 1
    retire = GateReview.objects.get(initiative=pilot, status="open")
    assert retire.gate == "retire"
    breach.refresh_from_db()
    assert breach.review == retire
    assert exit_criteria_enforce(now=at("2026-04-13T00:00:00+00:00")) == 0


# Monthly value reviews -----------------------------------------------------------------------


def portfolio() -> dict[str, Initiative]:
    pilot, kpi = failing_pilot()
    for month, value in ((1, "13.2"), (2, "13.4"), (3, "13.9")):
        measure(kpi, month, value)
        factories.FinancialEntryFactory(
            initiative=pilot, kind=EntryKind.COST, month=dt.date(2026, month, 1), amount=Decimal("10000")
        )
        factories.FinancialEntryFactory(
            initiative=pilot, kind=EntryKind.BENEFIT, month=dt.date(2026, month, 1), amount=Decimal("25000")
        )
    in_scale = factories.InitiativeFactory(
        stage=Stage.SCALE, stage_entered_at=at("2025-06-01T00:00:00+00:00")
    )
    factories.BusinessCaseFactory(initiative=in_scale)
    scale_kpi = factories.KPIFactory(
        initiative=in_scale,
        name="Stock-out rate",
        direction="decrease",
        baseline=Decimal("7"),
        target=Decimal("4"),
    )
    factories.MeasurementFactory(
        kpi=scale_kpi, period=dt.date(2026, 2, 1), value=Decimal("3.5")
    )  # March is missing
    proposal = factories.proposal_ready_for_pilot_gate()
    return {"pilot": pilot, "scale": in_scale, "proposal": proposal}


def test_each_pilot_and_scale_initiative_gets_one_value_review_a_month_from_the_due_day(members):
    initiatives = portfolio()
    assert value_reviews_open(now=at("2026-04-04T23:59:00+00:00")) == 0  # March's measurements not yet due

    assert value_reviews_open(now=at("2026-04-05T06:00:00+00:00")) == 2
    pilot_review = ValueReview.objects.get(initiative=initiatives["pilot"])
    assert (pilot_review.month, pilot_review.stage, pilot_review.recommendation) == (
        dt.date(2026, 4, 1),
        "pilot",
        "continue",
    )
    assert pilot_review.kpi_attainment[0] | {"kpi": "Conversion rate"} == {
        "kpi": "Conversion rate",
        "primary": True,
        "period": "2026-03",
        "value": "13.9",
        "baseline": "10",
        "target": "13",
        "attainment": "1.3",
        "meets_target": True,
        "consecutive_misses": 0,
        "overdue": False,
    }
    assert (pilot_review.cost_to_date, pilot_review.benefit_to_date, pilot_review.roi_to_date) == (
        Decimal("30000.00"),
        Decimal("75000.00"),
        Decimal("1.5000"),
    )
    owner = initiatives["pilot"].owner.username
    assert recipients(f"value-review-{initiatives['pilot'].pk}-2026-04") == {"chair", owner}
    assert not ValueReview.objects.filter(initiative=initiatives["proposal"]).exists()
    assert LedgerEvent.objects.filter(action="value_review.opened", actor_name="system").count() == 2

    before = everything()
    assert value_reviews_open(now=at("2026-04-05T07:00:00+00:00")) == 0
    assert value_reviews_open(now=at("2026-04-30T23:00:00+00:00")) == 0
    assert everything() == before

    assert value_reviews_open(now=at("2026-05-05T06:00:00+00:00")) == 2
    assert ValueReview.objects.filter(initiative=initiatives["pilot"]).count() == 2


def test_overdue_kpi_measurements_are_flagged_and_the_project_lead_asked_for_them(members):
    initiatives = portfolio()
    value_reviews_open(now=at("2026-04-05T06:00:00+00:00"))
    review = ValueReview.objects.get(initiative=initiatives["scale"])
    assert review.overdue_kpis == ["Stock-out rate"]
    assert review.recommendation == "escalate"
    assert review.reasons == ["Measurements for 2026-03 are overdue: Stock-out rate."]
    key = f"kpi-overdue-{initiatives['scale'].pk}-2026-04"
    assert recipients(key) == {initiatives["scale"].owner.username}


# Time: UTC schedules, naive datetimes, DST ---------------------------------------------------


@pytest.mark.parametrize(
    "job", [overdue_signoffs_chase, perpetual_pilots_escalate, exit_criteria_enforce, value_reviews_open]
)
def test_a_naive_now_is_refused_rather_than_guessed(job):
    with pytest.raises(ValueError, match="aware datetime"):
        job(now=dt.datetime(2026, 4, 5, 6, 0))


def test_the_month_of_a_value_review_is_the_utc_month_whatever_the_offset_given(members):
    initiatives = portfolio()
    # 01:30 on 5 April in Paris is still 4 April in UTC: not yet due.
    assert value_reviews_open(now=at("2026-04-05T01:30:00+02:00")) == 0
    # 23:30 on 4 April in São Paulo (UTC-3) is 5 April in UTC: due, and the same reviews once.
    assert value_reviews_open(now=at("2026-04-04T23:30:00-03:00")) == 2
    assert value_reviews_open(now=at("2026-04-05T08:00:00+02:00")) == 0
    assert set(ValueReview.objects.values_list("month", flat=True)) == {dt.date(2026, 4, 1)}
    assert initiatives


def test_a_dst_change_neither_moves_nor_doubles_a_reminder(members):
    paris = ZoneInfo("Europe/Paris")  # clocks go forward on 29 March 2026 at 02:00 local time
    initiative = factories.pilot_ready_for_scale_gate()
    review = review_open(
        actor=initiative.owner, initiative=initiative, now=dt.datetime(2026, 3, 27, 1, 30, tzinfo=paris)
    )  # 00:30 UTC
    # Three days later on the wall clock is 02:30 CEST, one hour short of three days: not yet.
    assert overdue_signoffs_chase(now=dt.datetime(2026, 3, 30, 1, 30, tzinfo=paris)) == 0
    assert overdue_signoffs_chase(now=dt.datetime(2026, 3, 30, 2, 30, tzinfo=paris)) == 4
    assert overdue_signoffs_chase(now=dt.datetime(2026, 3, 30, 3, 30, tzinfo=paris)) == 0
    assert SignOffFollowUp.objects.filter(review=review).count() == 4


# Everything, twice -----------------------------------------------------------------------------


def test_running_all_periodic_work_twice_for_the_same_period_changes_nothing_more(members):
    proposal = portfolio()["proposal"]
    review_open(actor=proposal.owner, initiative=proposal, now=at("2026-04-01T00:00:00+00:00"))
    overdue_pilot(dt.date(2026, 3, 1))
    failing, kpi = failing_pilot()
    for month in (1, 2, 3):
        measure(kpi, month, "11")
    drops = Path(settings.VALUEGATE_KPI_CONNECTORS["file-drops"]["directory"])
    drops.mkdir(parents=True)
    (drops / "proposal.csv").write_text("period,value\n2026-01-01,12\n2026-02-01,12.5\n")
    kpi_source_register(
        actor=proposal.owner, kpi=proposal.kpis.get(), connector="file-drops", query="proposal.csv"
    )
    now = at("2026-04-20T06:00:00+00:00")
    first = run_periodic_work(now=now)
    assert first == {
        "KPIs measured from source": 2,
        "sign-off follow-ups": 8,
        "exit criteria": 2,
        "perpetual pilots": 1,
        "value reviews": 4,
        "expired idempotency keys": 0,
        "ledger events sequenced": 0,  # each decision's were sequenced with it
        "ledger checkpoints published": 1,
    }
    before = everything()
    assert run_periodic_work(now=now) == dict.fromkeys(first, 0)
    assert everything() == before
