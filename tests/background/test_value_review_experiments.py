"""The monthly value review judges each KPI's A/B experiments by the always-valid method, as of its
month, stores the verdicts, and shows them to the committee in the admin and the e-mail."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from governance.ledger.models import LedgerEvent
from governance.reasons import say_stored
from governance.schedule import value_reviews_open
from governance.value.models import ValueReview
from governance.value.selectors import value_inputs, value_tracked_initiatives
from projects.vocabulary import EntryKind, Stage
from tests import factories

pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def headline_pilot(title: str = "Generated headlines"):
    """A pilot since January whose click-through rate meets its target every month, and pays."""
    pilot = factories.InitiativeFactory(
        stage=Stage.PILOT, stage_entered_at=at("2026-01-03T00:00:00+00:00"), title=title
    )
    factories.BusinessCaseFactory(initiative=pilot)
    kpi = factories.KPIFactory(
        initiative=pilot,
        name="Click-through rate",
        unit="ratio",
        baseline=Decimal("0.040"),
        target=Decimal("0.052"),
    )
    for month in range(1, 6):
        period = dt.date(2026, month, 1)
        factories.MeasurementFactory(kpi=kpi, period=period, value=Decimal("0.055"))
        factories.FinancialEntryFactory(
            initiative=pilot, kind=EntryKind.COST, month=period, amount=Decimal("10000")
        )
        factories.FinancialEntryFactory(
            initiative=pilot, kind=EntryKind.BENEFIT, month=period, amount=Decimal("30000")
        )
    return pilot, kpi


def monthly(counts: list[tuple[int, int, int, int]]) -> list[tuple[dt.date, tuple[int, int, int, int]]]:
    return [(dt.date(2026, month, 28), c) for month, c in enumerate(counts, start=1)]


# 4.0% against 4.6%, 2,500 more visitors per arm each month: p = 0.036 at the fourth look for a
# single planned test, not yet proof for a committee that looked every month.
BORDERLINE = monthly([(2500 * k, 100 * k, 2500 * k, 115 * k) for k in range(1, 5)])


def test_the_april_review_stores_the_always_valid_verdict_and_says_the_gain_is_not_yet_proven(members):
    pilot, kpi = headline_pilot()
    # Three looks by the end of March; a fourth dated in April is part of April's review.
    factories.experiment_with_looks(kpi, BORDERLINE, name="Headline test")

    assert value_reviews_open(now=at("2026-04-05T06:00:00+00:00")) == 1
    review = ValueReview.objects.get(initiative=pilot)
    assert review.recommendation == "continue"
    assert review.reasons[0].startswith("Every primary KPI meets its target")
    assert review.reasons[1].startswith(
        "Click-through rate meets its target, but the A/B test “Headline test” on Click-through rate is "
        "not yet conclusive after 4 looks (always-valid 95% interval -0.0028 to +0.0148"
    )
    [row] = review.kpi_attainment
    # The summary as a code too, which reads in any language.
    code = row["experiments"][0].pop("summary_code")
    with translation.override("zh-hans"):
        assert say_stored(code).startswith("经4次观察尚无定论（")
    with translation.override("en"):
        assert say_stored(code) == row["experiments"][0]["summary"]
    assert [say_stored(r) for r in review.reason_codes] == review.reasons
    assert row["experiments"] == [
        {
            "name": "Headline test",
            "looks": 4,
            "method": "always_valid",
            "low": "-0.002803",
            "high": "0.014803",
            "significant": False,
            "conclusively_negative": False,
            "summary": (
                "not yet conclusive after 4 looks (always-valid 95% interval -0.0028 to +0.0148, "
                "treatment − control)"
            ),
        }
    ]
    event = json.loads(LedgerEvent.objects.get(action="value_review.opened", initiative=pilot).payload)
    [recorded] = event["kpis"][0]["experiments"]
    assert recorded.pop("summary_code") == code and [recorded] == row["experiments"]
    assert event["reason_codes"] == review.reason_codes


def test_a_past_month_s_review_does_not_see_later_looks(members):
    pilot, kpi = headline_pilot()
    # Null for three months, then the treatment loses clicks in April and May.
    counts = [(5000, 200, 5000, 201), (10000, 400, 10000, 401), (15000, 600, 15000, 602)]
    counts += [(15000 + 20000 * k, 600 + 800 * k, 15000 + 20000 * k, 602 + 500 * k) for k in (1, 2)]
    factories.experiment_with_looks(kpi, monthly(counts), name="Headline test")

    value_reviews_open(now=at("2026-03-05T06:00:00+00:00"))
    march = ValueReview.objects.get(initiative=pilot, month=dt.date(2026, 3, 1))
    assert march.recommendation == "continue"
    assert march.kpi_attainment[0]["experiments"][0]["looks"] == 3
    assert "not yet conclusive after 3 looks" in march.reasons[1]

    value_reviews_open(now=at("2026-05-05T06:00:00+00:00"))
    may = ValueReview.objects.get(initiative=pilot, month=dt.date(2026, 5, 1))
    assert may.recommendation == "adjust"
    # No effect for three months, then a clear loss: the looks contradict each other, which asks
    # the committee to look, without claiming the treatment is proven harmful.
    assert may.reasons[0].startswith(
        "The A/B test “Headline test” on Click-through rate is inconclusive after 5 looks: the looks "
        "contradict each other"
    )
    assert may.kpi_attainment[0]["experiments"][0]["conclusively_negative"] is False


def test_governance_tick_e_mails_the_chair_the_verdict_and_a_harmful_test_asks_to_adjust(members):
    pilot, kpi = headline_pilot()
    harmful = monthly([(5000 * k, 200 * k, 5000 * k, 150 * k) for k in range(1, 4)])
    factories.experiment_with_looks(kpi, harmful, name="Headline test")

    call_command("governance_tick", "--now", "2026-04-05T06:00:00Z", stdout=io.StringIO())
    review = ValueReview.objects.get(initiative=pilot)
    assert review.recommendation == "adjust"
    [message] = [
        m for m in mail.outbox if "Value review 2026-04" in m.subject and m.to == [members["chair"].email]
    ]
    assert message.subject.endswith(": Adjust")
    assert (
        "The A/B test “Headline test” on Click-through rate is conclusively negative after 3 looks"
        in message.body
    )
    assert (
        "  A/B test “Headline test”: conclusively negative after 3 looks: the treatment does worse than the "
        "control (always-valid 95% interval -0.0166 to -0.0034, treatment − control)" in message.body
    )
    assert "judged by the always-valid method" in message.body

    before = (ValueReview.objects.count(), LedgerEvent.objects.count(), len(mail.outbox))
    call_command("governance_tick", "--now", "2026-04-05T07:00:00Z", stdout=io.StringIO())
    assert (ValueReview.objects.count(), LedgerEvent.objects.count(), len(mail.outbox)) == before


def test_a_review_without_experiments_keeps_its_kpi_rows_as_before(members):
    pilot, _ = headline_pilot()
    value_reviews_open(now=at("2026-04-05T06:00:00+00:00"))
    review = ValueReview.objects.get(initiative=pilot)
    assert "experiments" not in review.kpi_attainment[0]
    assert review.reasons == ["Every primary KPI meets its target; the projected ROI is 200.0%."]


@pytest.mark.parametrize("who", ["chair", "auditor"])
def test_the_chair_and_the_auditor_read_the_verdicts_on_the_review_s_admin_page(members, client, who):
    pilot, kpi = headline_pilot()
    factories.experiment_with_looks(kpi, BORDERLINE, name="Headline test")
    value_reviews_open(now=at("2026-04-05T06:00:00+00:00"))
    review = ValueReview.objects.get(initiative=pilot)
    user = members[who]
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.get(reverse("admin:governance_valuereview_change", args=[review.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "A/B experiments (always-valid)" in page
    assert (
        "<li>“Headline test” on <strong>Click-through rate</strong>: not yet conclusive after 4 looks "
        "(always-valid 95% interval -0.0028 to +0.0148, treatment − control)</li>" in page
    )


def test_the_admin_page_says_so_when_no_experiment_had_a_look(members, client):
    pilot, _ = headline_pilot()
    value_reviews_open(now=at("2026-04-05T06:00:00+00:00"))
    review = ValueReview.objects.get(initiative=pilot)
    chair = members["chair"]
    chair.is_staff = True
    chair.save()
    client.force_login(chair)
    page = client.get(reverse("admin:governance_valuereview_change", args=[review.pk])).content.decode()
    assert "No A/B experiment on these KPIs had a look by the end of the month." in page


def with_experiments(count: int):
    pilot, kpi = headline_pilot(title=f"Pilot with {count} experiments")
    looks = monthly([(5000 * k, 200 * k, 5000 * k, 210 * k) for k in range(1, 4)])
    for n in range(count):
        factories.experiment_with_looks(kpi, looks, name=f"Variant {n}")
    return pilot


@pytest.mark.parametrize("count", [1, 5])
def test_value_inputs_read_six_queries_whatever_the_experiments_and_looks(
    members, django_assert_num_queries, count
):
    pilot = with_experiments(count)
    with django_assert_num_queries(6):
        loaded = value_tracked_initiatives([pilot.pk]).get()
        inputs = value_inputs(loaded, month=dt.date(2026, 4, 1))
    assert len(inputs.experiments) == count
    assert {len(e.looks) for e in inputs.experiments} == {3}


def test_opening_a_review_issues_the_same_queries_for_one_or_five_experiments(members):
    def opening(pilot) -> int:
        """Queries of the run that opens `pilot`'s April review, the only one left to open."""
        with CaptureQueriesContext(connection) as queries:
            assert value_reviews_open(now=at("2026-04-05T06:00:00+00:00")) == 1
        assert ValueReview.objects.filter(initiative=pilot, month=dt.date(2026, 4, 1)).exists()
        return len(queries)

    opening(headline_pilot(title="Pilot before")[0])  # the ledger's first event also starts its chain
    with_one = opening(with_experiments(1))
    with_five = opening(with_experiments(5))
    assert with_one == with_five
