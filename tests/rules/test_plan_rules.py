"""The experiment-plan rules over plain data: what the power calculation and the split check read."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from governance.reasons import say
from governance.rules.plans import (
    PlanCannotBePowered,
    PlanFacts,
    plan_duration,
    power_plan,
    split_check,
    split_reason,
)
from projects.power import MeanPlan, ProportionPlan

D = Decimal
PLAN = PlanFacts(
    metric="proportion",
    minimum_effect=D("2"),
    treatment_share=D("0.5"),
    planned_looks=6,
    traffic_per_month=10_000,
)


def test_a_rate_kept_in_percent_is_powered_as_a_proportion():
    pilot = power_plan(PLAN, baseline=D("10"), direction="increase", unit="%")
    assert isinstance(pilot, ProportionPlan)
    assert (pilot.baseline_rate, pilot.minimum_effect) == pytest.approx((0.10, 0.02))


def test_a_kpi_to_lower_has_a_negative_effect_and_a_plan_s_own_baseline_wins():
    plan = replace(PLAN, baseline=D("0.63"), minimum_effect=D("0.19"))
    pilot = power_plan(plan, baseline=D("60"), direction="decrease", unit="minutes")
    assert (pilot.baseline_rate, pilot.minimum_effect) == pytest.approx((0.63, -0.19))


def test_a_mean_plan_needs_its_standard_deviation():
    mean = replace(PLAN, metric="mean", minimum_effect=D("15"))
    with pytest.raises(PlanCannotBePowered) as refused:
        power_plan(mean, baseline=D("300"), direction="decrease", unit="s")
    # A reason the reader's language words, not the statistics' English.
    assert say(refused.value.reason) == "a mean KPI's plan needs the standard deviation of one unit's value"
    pilot = power_plan(
        replace(mean, standard_deviation=D("120")), baseline=D("300"), direction="decrease", unit="s"
    )
    assert isinstance(pilot, MeanPlan) and pilot.minimum_effect == -15


def test_the_duration_is_tuned_to_the_kpi_s_claimed_effect():
    # The KPI claims +30% (10 → 13) while the plan's minimum is +20%: τ tuned to the larger claim
    # makes the pilot no shorter than one tuned to the minimum.
    claimed = plan_duration(
        replace(PLAN, traffic_per_month=4000),
        baseline=D("10"),
        target=D("13"),
        direction="increase",
        unit="%",
        alpha=0.05,
    )
    minimum = plan_duration(
        replace(PLAN, traffic_per_month=4000),
        baseline=D("10"),
        target=D("12"),
        direction="increase",
        unit="%",
        alpha=0.05,
    )
    assert claimed.months is not None and minimum.months is not None
    assert claimed.months >= minimum.months


def test_the_split_check_reads_control_then_treatment_and_says_so_in_words():
    one_in_five = replace(PLAN, treatment_share=D("0.2"))  # control 80%, treatment 20%
    sound = split_check(one_in_five, ((8000, 2000), (16040, 3960)))
    assert not sound.mismatch
    assert "80.2% / 19.8% observed, 80.0% / 20.0% planned" in say(split_reason("Test", "CTR", sound))
    swapped = split_check(one_in_five, ((2000, 8000),))
    assert swapped.mismatch
    words = say(split_reason("Test", "CTR", swapped))
    assert "20.0% / 80.0% observed against 80.0% / 20.0% planned" in words and "after 1 look)" in words
