"""A/B experiments in the monthly value review: always-valid verdicts, as of the month reviewed."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.reasons import said, say
from governance.rules.gates import BusinessCaseFacts, ExperimentFacts, KPIFacts, MeasurementFacts
from governance.rules.value import (
    DatedLook,
    KPIExperiment,
    ValueInputs,
    add_months,
    assess_value,
    experiment_verdict_line,
)
from projects.roi import MonthlyAmount
from projects.sequential import MeanLook, ProportionLook

JAN = dt.date(2026, 1, 1)


def ctr(*values: str, primary: bool = True) -> KPIFacts:
    """Click-through rate, baseline 0.040, target 0.052, one measurement a month from January."""
    return KPIFacts(
        name="Click-through rate",
        unit="ratio",
        direction="increase",
        baseline=Decimal("0.040"),
        target=Decimal("0.052"),
        data_source="Analytics",
        is_primary=primary,
        measurements=tuple(MeasurementFacts(add_months(JAN, i), Decimal(v)) for i, v in enumerate(values)),
    )


def on_target(months: int) -> KPIFacts:
    return ctr(*["0.055"] * months)


def monthly(counts: list[tuple[int, int, int, int]], *, day: int = 28) -> tuple[DatedLook, ...]:
    """Cumulative looks on `day` of January, February, …"""
    return tuple(
        DatedLook(add_months(JAN, i).replace(day=day), ProportionLook(*c)) for i, c in enumerate(counts)
    )


def headline_test(looks: tuple[DatedLook, ...], kpi: str = "Click-through rate") -> KPIExperiment:
    return KPIExperiment(kpi=kpi, name="Headline test", metric="proportion", looks=looks)


def review(
    kpi: KPIFacts, experiments: tuple[KPIExperiment, ...], *, month: dt.date, missed: int = 3
) -> ValueInputs:
    months = (month.year - JAN.year) * 12 + month.month - 1
    return ValueInputs(
        stage="pilot",
        month=month,
        measurements_expected_from=JAN,
        kpis=(kpi,),
        business_case=BusinessCaseFacts(
            budget=Decimal("300000"),
            expected_annual_benefit=Decimal("900000"),
            horizon_months=36,
            exit_criteria="Stop if click-through is not 30% higher.",
            missed_periods_to_retire=missed,
        ),
        costs=tuple(MonthlyAmount(add_months(JAN, i), Decimal("10000")) for i in range(months)),
        benefits=tuple(MonthlyAmount(add_months(JAN, i), Decimal("30000")) for i in range(months)),
        experiments=experiments,
    )


# 4.0% against 4.6% at 2,500 more visitors per arm each month: after four months p = 0.036 for
# a single planned look, which a committee re-testing monthly would wrongly take as proof.
BORDERLINE = monthly([(2500 * k, 100 * k, 2500 * k, 115 * k) for k in range(1, 5)])
# 4.0% against 3.0%: the new headline loses clicks.
HARMFUL = monthly([(5000 * k, 200 * k, 5000 * k, 150 * k) for k in range(1, 4)])
# 4.0% against 5.2%: the promised effect, clearly measured.
WINNING = monthly([(5000 * k, 200 * k, 5000 * k, 260 * k) for k in range(1, 4)])


def test_a_borderline_gain_on_target_continues_but_the_review_says_the_test_is_not_yet_conclusive():
    assessment = assess_value(review(on_target(4), (headline_test(BORDERLINE),), month=dt.date(2026, 5, 1)))
    assert assessment.recommendation == "continue"
    assert said(assessment.reasons)[0].startswith("Every primary KPI meets its target")
    note = said(assessment.reasons)[1]
    assert note.startswith(
        "Click-through rate meets its target, but the A/B test “Headline test” on Click-through rate is "
        "not yet conclusive after 4 looks (always-valid 95% interval -0.0028 to +0.0148"
    )
    line = assessment.kpis[0].experiments[0]
    assert (line.method, line.looks, line.significant, line.conclusively_negative) == (
        "always_valid",
        4,
        False,
        False,
    )
    # The fixed-horizon test, valid for one planned look, would have called it significant.
    assert line.verdict.fixed_significant


def test_a_significant_gain_adds_no_caveat():
    assessment = assess_value(review(on_target(3), (headline_test(WINNING),), month=dt.date(2026, 4, 1)))
    assert assessment.recommendation == "continue"
    assert len(said(assessment.reasons)) == 1
    line = assessment.kpis[0].experiments[0]
    assert line.significant
    assert say(line.summary).startswith(
        "a significant improvement after 3 looks (always-valid 95% interval +0.0045"
    )


def test_a_conclusively_harmful_treatment_turns_continue_into_adjust_even_with_the_kpi_on_target():
    assessment = assess_value(review(on_target(3), (headline_test(HARMFUL),), month=dt.date(2026, 4, 1)))
    assert assessment.recommendation == "adjust"
    assert said(assessment.reasons) == (
        "The A/B test “Headline test” on Click-through rate is conclusively negative after 3 looks: the "
        "treatment does worse than the control (always-valid 95% interval -0.0166 to -0.0034, "
        "treatment − control; Click-through rate should increase).",
    )
    assert assessment.kpis[0].experiments[0].conclusively_negative


def test_for_a_lower_is_better_kpi_a_longer_time_with_the_treatment_is_the_harm():
    handling = KPIFacts(
        name="Handling time",
        unit="minutes",
        direction="decrease",
        baseline=Decimal("12"),
        target=Decimal("9"),
        data_source="Zendesk",
        is_primary=True,
        measurements=tuple(MeasurementFacts(add_months(JAN, i), Decimal("8.5")) for i in range(3)),
    )
    slower = KPIExperiment(
        kpi="Handling time",
        name="Suggested replies",
        metric="mean",
        looks=tuple(
            DatedLook(
                add_months(JAN, k - 1).replace(day=20), MeanLook(400 * k, 12.0, 16.0, 400 * k, 13.5, 16.0)
            )
            for k in range(1, 4)
        ),
    )
    faster = KPIExperiment(
        kpi="Handling time",
        name="Suggested replies",
        metric="mean",
        looks=tuple(
            DatedLook(
                add_months(JAN, k - 1).replace(day=20), MeanLook(400 * k, 12.0, 16.0, 400 * k, 10.5, 16.0)
            )
            for k in range(1, 4)
        ),
    )
    harmed = assess_value(review(handling, (slower,), month=dt.date(2026, 4, 1)))
    assert harmed.recommendation == "adjust"
    assert "Handling time should decrease" in said(harmed.reasons)[0]
    helped = assess_value(review(handling, (faster,), month=dt.date(2026, 4, 1)))
    assert helped.recommendation == "continue"
    assert helped.kpis[0].experiments[0].significant


def test_looks_after_the_review_month_are_not_seen_by_that_month_s_review():
    null_then_harmful = monthly(
        [(5000, 200, 5000, 201), (10000, 400, 10000, 401), (15000, 600, 15000, 602)]
        + [(15000 + 20000 * k, 600 + 800 * k, 15000 + 20000 * k, 602 + 500 * k) for k in range(1, 3)]
    )
    experiment = headline_test(null_then_harmful)
    march = assess_value(review(on_target(3), (experiment,), month=dt.date(2026, 3, 1)))
    assert march.recommendation == "continue"
    assert march.kpis[0].experiments[0].looks == 3
    assert "not yet conclusive after 3 looks" in said(march.reasons)[1]

    may = assess_value(review(on_target(5), (experiment,), month=dt.date(2026, 5, 1)))
    assert may.recommendation == "adjust"
    # No effect for three months, then a strong harm: the looks contradict each other.
    assert "inconclusive after 5 looks: the looks contradict each other" in said(may.reasons)[0]


def test_a_look_on_the_last_day_of_the_month_counts_and_one_on_the_first_of_the_next_does_not():
    looks = (
        DatedLook(dt.date(2026, 2, 27), ProportionLook(5000, 200, 5000, 150)),
        DatedLook(dt.date(2026, 3, 31), ProportionLook(10000, 400, 10000, 300)),
        DatedLook(dt.date(2026, 4, 1), ProportionLook(15000, 600, 15000, 450)),
    )
    march = assess_value(review(on_target(3), (headline_test(looks),), month=dt.date(2026, 3, 1)))
    assert march.kpis[0].experiments[0].looks == 2


def test_an_experiment_without_a_look_by_the_end_of_the_month_is_not_part_of_the_review():
    later = monthly([(5000, 200, 5000, 150)], day=10)
    started_in_april = headline_test(tuple(DatedLook(add_months(d.looked_on, 3), d.figures) for d in later))
    assessment = assess_value(review(on_target(3), (started_in_april,), month=dt.date(2026, 3, 1)))
    assert assessment.kpis[0].experiments == ()
    assert said(assessment.reasons) == ("Every primary KPI meets its target; the projected ROI is 200.0%.",)


def test_retire_and_escalate_keep_precedence_over_a_harmful_experiment():
    three_misses = ctr("0.041", "0.042", "0.041")
    retire = assess_value(review(three_misses, (headline_test(HARMFUL),), month=dt.date(2026, 4, 1)))
    assert retire.recommendation == "retire"
    assert all(r.startswith("Exit criteria met") for r in said(retire.reasons))
    assert retire.kpis[0].experiments[0].conclusively_negative  # still shown on the KPI line

    march_missing = ctr("0.055", "0.055")
    escalate = assess_value(review(march_missing, (headline_test(HARMFUL),), month=dt.date(2026, 4, 1)))
    assert escalate.recommendation == "escalate"
    assert said(escalate.reasons) == ("Measurements for 2026-03 are overdue: Click-through rate.",)


def test_a_missed_target_still_adjusts_and_names_both_the_miss_and_the_harm():
    missing = ctr("0.055", "0.055", "0.045")
    assessment = assess_value(review(missing, (headline_test(HARMFUL),), month=dt.date(2026, 4, 1)))
    assert assessment.recommendation == "adjust"
    assert "misses the target of 0.052" in said(assessment.reasons)[0]
    assert "conclusively negative after 3 looks" in said(assessment.reasons)[1]


def test_a_secondary_kpi_on_target_with_an_inconclusive_test_adds_no_caveat():
    secondary = ctr("0.055", "0.055", "0.055", "0.055", primary=False)
    assessment = assess_value(review(secondary, (headline_test(BORDERLINE),), month=dt.date(2026, 5, 1)))
    assert assessment.recommendation == "continue"
    assert len(said(assessment.reasons)) == 1
    assert assessment.kpis[0].experiments[0].looks == 4


def test_figures_that_cannot_be_tested_are_named_and_change_no_recommendation():
    empty_arm = headline_test(monthly([(0, 0, 5000, 150)]))
    assessment = assess_value(review(on_target(3), (empty_arm,), month=dt.date(2026, 4, 1)))
    assert assessment.recommendation == "continue"
    line = assessment.kpis[0].experiments[0]
    assert line.verdict is None
    assert say(line.summary) == "cannot be tested (The control arm has no observations.)"


@st.composite
def null_experiments(draw):
    """Monthly cumulative looks of an experiment with no effect: each month the treatment lies
    within two standard errors of the control, as chance alone keeps it most months; at the
    months near two, a fixed-horizon test re-run monthly would already say "significant"."""
    rate = draw(st.floats(min_value=0.1, max_value=0.5))
    traffic = draw(st.integers(min_value=1000, max_value=20000))
    months = draw(st.integers(min_value=1, max_value=24))
    deviations = draw(st.lists(st.floats(min_value=-2, max_value=2), min_size=months, max_size=months))
    counts, previous = [], 0
    for k, deviation in enumerate(deviations, start=1):
        size = traffic * k
        control = round(rate * size)
        spread = math.sqrt(2 * rate * (1 - rate) * size)
        treatment = min(size, max(previous, round(control + deviation * spread)))
        counts.append((size, control, size, treatment))
        previous = treatment
    return monthly(counts)


@settings(max_examples=300, deadline=None)
@given(null_experiments())
def test_a_null_experiment_peeked_at_every_month_never_becomes_conclusive(looks):
    month = looks[-1].looked_on.replace(day=1)
    months = (month.year - JAN.year) * 12 + month.month
    assessment = assess_value(review(on_target(months), (headline_test(looks),), month=month))
    line = assessment.kpis[0].experiments[0]
    assert not line.significant and not line.conclusively_negative
    assert assessment.recommendation == "continue"
    assert f"is not yet conclusive after {len(looks)} look" in said(assessment.reasons)[1]


def test_the_gate_rules_read_the_same_figures_the_review_judged():
    facts = headline_test(HARMFUL).facts()
    assert facts == ExperimentFacts(
        "Headline test", 15000, 600, 15000, 450, looks=tuple(d.figures for d in HARMFUL), metric="proportion"
    )
    line = experiment_verdict_line(headline_test(HARMFUL), ctr())
    assert line.verdict.always_valid.looks == 3 and line.method == "always_valid"


def test_looks_that_contradict_each_other_are_reported_as_inconclusive_not_as_a_proof():
    # 5.0% against 3.0% in January, then 4.0% against 4.4% over twenty times the traffic: the
    # always-valid intervals of the two looks have no value in common.
    contradicting = monthly([(5000, 250, 5000, 150), (100_000, 4000, 100_000, 4400)])
    assessment = assess_value(
        review(on_target(2), (headline_test(contradicting),), month=dt.date(2026, 3, 1))
    )
    line = assessment.kpis[0].experiments[0]
    assert not line.significant and not line.conclusively_negative and line.contradictory
    assert assessment.recommendation == "adjust"
    assert said(assessment.reasons)[0].startswith(
        "The A/B test “Headline test” on Click-through rate is inconclusive after 2 looks: the looks "
        "contradict each other"
    )
    assert said(assessment.reasons)[0].endswith("so restart it or find what changed.")
    assert "the latest look's always-valid 95% interval alone +0.0009 to +0.0071" in say(line.summary)


def test_a_thin_first_look_in_a_small_holdout_does_not_make_a_null_experiment_a_proven_gain():
    # A 2% control: none of its first 60 visitors clicks, against 4% of 3,000 treated ones; then
    # both arms click at 4%.
    thin_first = monthly([(60, 0, 3000, 120), (260, 10, 13000, 520), (460, 18, 23000, 921)])
    assessment = assess_value(review(on_target(3), (headline_test(thin_first),), month=dt.date(2026, 4, 1)))
    assert not assessment.kpis[0].experiments[0].significant
    assert "is not yet conclusive after 3 looks" in said(assessment.reasons)[1]
