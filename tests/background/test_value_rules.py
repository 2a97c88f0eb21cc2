"""The value review's pure rules: runs of misses, exit criteria, attainment, the recommendation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from governance.reasons import said
from governance.rules.gates import BusinessCaseFacts, KPIFacts, MeasurementFacts
from governance.rules.value import (
    ValueInputs,
    add_months,
    assess_value,
    exit_criteria_breaches,
    missed_run,
)
from projects.roi import MonthlyAmount

JAN = dt.date(2026, 1, 1)


def ctr(*values: str, start: dt.date = JAN, primary: bool = True, skip: tuple[int, ...] = ()) -> KPIFacts:
    """Click-through rate, baseline 0.040, target 0.052, one measurement a month from `start`."""
    return KPIFacts(
        name="Click-through rate",
        unit="ratio",
        direction="increase",
        baseline=Decimal("0.040"),
        target=Decimal("0.052"),
        data_source="Analytics",
        is_primary=primary,
        measurements=tuple(
            MeasurementFacts(add_months(start, i), Decimal(v)) for i, v in enumerate(values) if i not in skip
        ),
    )


def case(missed: int = 3) -> BusinessCaseFacts:
    return BusinessCaseFacts(
        budget=Decimal("300000"),
        expected_annual_benefit=Decimal("900000"),
        horizon_months=36,
        exit_criteria="Stop if click-through is not 30% higher.",
        missed_periods_to_retire=missed,
    )


def money(amount: str, months: int, start: dt.date = JAN) -> tuple[MonthlyAmount, ...]:
    return tuple(MonthlyAmount(add_months(start, i), Decimal(amount)) for i in range(months))


def test_a_run_of_misses_counts_back_from_the_latest_month_and_stops_at_a_hit():
    run = missed_run(ctr("0.041", "0.053", "0.041", "0.042", "0.043"))
    assert (run.length, run.first_period) == (3, dt.date(2026, 3, 1))


def test_an_unmeasured_month_ends_the_run_instead_of_counting_as_a_miss():
    run = missed_run(ctr("0.041", "0.041", "0.041", "0.041", skip=(2,)))
    assert (run.length, run.first_period) == (1, dt.date(2026, 4, 1))


def test_lower_is_better_kpis_miss_when_above_target():
    kpi = KPIFacts(
        name="First response time",
        unit="minutes",
        direction="decrease",
        baseline=Decimal("60"),
        target=Decimal("42"),
        data_source="Zendesk",
        is_primary=True,
        measurements=(
            MeasurementFacts(JAN, Decimal("45")),
            MeasurementFacts(add_months(JAN, 1), Decimal("41")),
        ),
    )
    assert missed_run(kpi).length == 0
    assert missed_run(replace(kpi, measurements=kpi.measurements[:1])).length == 1


@pytest.mark.parametrize(("misses", "breached"), [(2, False), (3, True), (6, True)])
def test_exit_criteria_are_met_after_the_business_case_s_consecutive_misses(misses, breached):
    kpi = ctr(*["0.041"] * misses)
    breaches = exit_criteria_breaches((kpi,), case(3), month=add_months(JAN, misses))
    assert bool(breaches) is breached
    if breached:
        assert breaches[0].first_period == JAN and breaches[0].periods == misses


def test_exit_criteria_ignore_secondary_kpis_and_measurements_after_the_month():
    assert (
        exit_criteria_breaches(
            (ctr("0.041", "0.041", "0.041", primary=False),), case(3), month=dt.date(2026, 6, 1)
        )
        == ()
    )
    three_misses = ctr("0.041", "0.041", "0.041")
    assert exit_criteria_breaches((three_misses,), case(3), month=dt.date(2026, 2, 1)) == ()


def inputs(
    kpi: KPIFacts, *, month: dt.date, costs=(), benefits=(), expected_from=JAN, missed=3
) -> ValueInputs:
    return ValueInputs(
        stage="pilot",
        month=month,
        measurements_expected_from=expected_from,
        kpis=(kpi,),
        business_case=case(missed),
        costs=costs,
        benefits=benefits,
    )


def test_the_retail_pilot_is_recommended_for_retirement_naming_the_kpi_and_the_months():
    kpi = ctr("0.0405", "0.0411", "0.0408", "0.0409")
    assessment = assess_value(
        inputs(kpi, month=dt.date(2026, 5, 1), costs=money("25000", 4), benefits=money("6000", 4))
    )
    assert assessment.recommendation == "retire"
    assert (
        "Click-through rate missed its target for 4 consecutive months since 2026-01"
        in said(assessment.reasons)[0]
    )
    line = assessment.kpis[0]
    assert line.attainment == Decimal("0.075")  # +0.0009 of the planned +0.012
    assert line.meets_target is False
    assert assessment.roi.roi_to_date == Decimal("-0.76")


def test_last_month_s_missing_measurement_escalates():
    kpi = ctr("0.053", "0.054")  # January and February; March is missing in April
    assessment = assess_value(inputs(kpi, month=dt.date(2026, 4, 1)))
    assert assessment.recommendation == "escalate"
    assert assessment.overdue_kpis == ("Click-through rate",)
    assert "2026-03" in said(assessment.reasons)[0]


def test_no_measurement_is_overdue_before_the_pilot_s_first_month_ended():
    kpi = ctr()
    assessment = assess_value(inputs(kpi, month=dt.date(2026, 3, 1), expected_from=dt.date(2026, 3, 1)))
    assert assessment.overdue_kpis == ()
    assert assessment.recommendation == "continue"
    assert said(assessment.reasons) == ("No KPI measurement is due yet.",)


def test_a_missed_target_below_the_exit_threshold_or_a_negative_projected_roi_asks_to_adjust():
    missing = assess_value(inputs(ctr("0.053", "0.045"), month=dt.date(2026, 3, 1)))
    assert missing.recommendation == "adjust"
    assert "misses the target of 0.052" in said(missing.reasons)[0]

    losing = assess_value(
        inputs(
            ctr("0.053", "0.054"),
            month=dt.date(2026, 3, 1),
            costs=money("10000", 2),
            benefits=money("1000", 2),
        )
    )
    assert losing.recommendation == "adjust"
    assert said(losing.reasons)[0].startswith("Projected ROI is -90.0%")


def test_an_exact_break_even_asks_to_adjust():
    """Cost 0, 300, 0, 100 and benefit 200, 200, 100, 0 over a 7-month horizon: exactly 800 each."""
    costs = tuple(
        MonthlyAmount(add_months(JAN, i), Decimal(a)) for i, a in enumerate(("0", "300", "0", "100"))
    )
    benefits = tuple(
        MonthlyAmount(add_months(JAN, i), Decimal(a)) for i, a in enumerate(("200", "200", "100", "0"))
    )
    assessment = assess_value(
        replace(
            inputs(
                ctr("0.053", "0.054", "0.055", "0.056"),
                month=dt.date(2026, 5, 1),
                costs=costs,
                benefits=benefits,
            ),
            business_case=replace(case(), horizon_months=7),
        )
    )
    assert assessment.recommendation == "adjust"
    assert said(assessment.reasons) == (
        "Projected ROI is 0.0% (cost to date $400.00, benefit to date $500.00).",
    )


def test_targets_met_and_a_positive_roi_continue():
    assessment = assess_value(
        inputs(
            ctr("0.053", "0.055"),
            month=dt.date(2026, 3, 1),
            costs=money("10000", 2),
            benefits=money("30000", 2),
        )
    )
    assert assessment.recommendation == "continue"
    assert said(assessment.reasons) == ("Every primary KPI meets its target; the projected ROI is 200.0%.",)
    assert assessment.kpis[0].attainment == Decimal("1.25")


def test_later_measurements_and_money_are_not_part_of_an_earlier_month_s_review():
    kpi = ctr("0.041", "0.041", "0.041", "0.060")
    march = assess_value(inputs(kpi, month=dt.date(2026, 3, 1), costs=money("1000", 4)))
    assert march.recommendation == "retire"
    assert march.kpis[0].latest.period == dt.date(2026, 3, 1)
    assert march.roi.cost_to_date == Decimal("3000")
