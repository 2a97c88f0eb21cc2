"""The pilot's time box from power: classical months as statsmodels computes them, always-valid
months that simulated pilots bear out, and a deadline that is a date on the calendar."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

from governance.rules.gates import sequence_is_significant
from projects.power import (
    REACHABLE,
    UNREACHABLE,
    MeanPlan,
    ProportionPlan,
    always_valid_power,
    fixed_horizon_power,
    pilot_deadline,
    pilot_duration,
)
from projects.sequential import (
    MeanLook,
    ProportionLook,
    always_valid_means,
    always_valid_proportions,
    tau_for_claimed_effect,
)
from projects.vocabulary import Direction

ALPHA = 0.05
TARGET = 0.8
PILOTS = 2000
# Three binomial standard errors of an 80% rate over 2,000 pilots: 2.7 points of slack, so that a
# fixed-seed simulation does not hang on one unlucky draw.
TOLERANCE = 3 * math.sqrt(TARGET * (1 - TARGET) / PILOTS)

# The peeking simulation's design (governance/rules/peeking.py): 2,000 visitors an arm a month,
# click-through 4.0% against a promised 5.2% (+30%).
CLICK_THROUGH = ProportionPlan.from_relative_lift(
    baseline_rate=0.04, relative_lift=0.30, units_per_month=4000
)
# Handling time of 300 s (σ 120 s) that the pilot should cut by 15 s, 1,000 cases a month.
HANDLING_TIME = MeanPlan(baseline_mean=300, standard_deviation=120, minimum_effect=-15, units_per_month=1000)


# --- the fixed horizon against statsmodels ---------------------------------------------------


@pytest.mark.parametrize("months", [1, 2, 3, 6, 12])
def test_fixed_horizon_power_of_a_rate_is_statsmodels_pooled_z_test_power(months):
    plan = CLICK_THROUGH
    per_arm = months * plan.units_per_month / 2
    # One tail at alpha/2: a Go needs the improving side (statsmodels' two-sided value adds the
    # other tail's chance of a "significant" loss, which is no Go).
    reference = power_proportions_2indep(
        plan.minimum_effect, plan.baseline_rate, per_arm, alpha=ALPHA / 2, alternative="larger"
    ).power
    assert fixed_horizon_power(plan, months=months, alpha=ALPHA) == pytest.approx(reference, abs=1e-9)
    two_sided = power_proportions_2indep(plan.minimum_effect, plan.baseline_rate, per_arm, alpha=ALPHA).power
    assert fixed_horizon_power(plan, months=months, alpha=ALPHA) == pytest.approx(two_sided, abs=1e-3)


def test_fixed_horizon_months_of_a_rate_are_statsmodels_sample_size_rounded_up_to_a_month():
    for plan in (
        CLICK_THROUGH,
        ProportionPlan(0.10, 0.02, 1500),
        ProportionPlan(0.30, -0.03, 3000),
        ProportionPlan(0.04, 0.004, 4000),
    ):
        per_arm = samplesize_proportions_2indep_onetail(
            plan.minimum_effect, plan.baseline_rate, TARGET, alpha=ALPHA
        )
        expected = math.ceil(2 * per_arm / plan.units_per_month)
        assert pilot_duration(plan, alpha=ALPHA, power=TARGET).fixed_horizon_months == expected


def test_fixed_horizon_months_of_a_rate_are_close_to_cohens_arcsine_approximation():
    plan = CLICK_THROUGH
    per_arm = NormalIndPower().solve_power(
        effect_size=proportion_effectsize(plan.treatment_rate, plan.baseline_rate), alpha=ALPHA, power=TARGET
    )
    months = pilot_duration(plan).fixed_horizon_months
    assert months is not None
    assert abs(months - 2 * per_arm / plan.units_per_month) < 1


def test_an_uneven_split_costs_power_as_statsmodels_says():
    plan = ProportionPlan(0.10, 0.02, 2000, treatment_share=0.8)
    treated = 6 * plan.units_per_month * 0.8
    reference = power_proportions_2indep(
        plan.minimum_effect, plan.baseline_rate, treated, ratio=0.25, alpha=ALPHA
    ).power
    # Here the interval's (unpooled) error is the larger, and a Go needs the interval too.
    assert fixed_horizon_power(plan, months=6, alpha=ALPHA) == pytest.approx(reference, abs=0.02)
    assert fixed_horizon_power(plan, months=6, alpha=ALPHA) <= reference + 1e-9
    assert fixed_horizon_power(plan, months=6, alpha=ALPHA) < fixed_horizon_power(
        ProportionPlan(0.10, 0.02, 2000), months=6, alpha=ALPHA
    )


@pytest.mark.parametrize("months", [1, 2, 4, 8])
def test_fixed_horizon_power_of_a_mean_is_statsmodels_normal_power(months):
    plan = HANDLING_TIME
    per_arm = months * plan.units_per_month / 2
    effect_size = abs(plan.minimum_effect) / plan.standard_deviation
    reference = NormalIndPower().power(effect_size, per_arm, ALPHA / 2, alternative="larger")
    assert fixed_horizon_power(plan, months=months, alpha=ALPHA) == pytest.approx(reference, abs=1e-9)


def test_fixed_horizon_months_of_a_mean_agree_with_statsmodels_t_test_sample_size():
    for plan in (HANDLING_TIME, MeanPlan(80.0, 45.0, 2.5, 2500), MeanPlan(12.0, 3.0, 0.4, 300, 0.3)):
        ratio = plan.treatment_share / (1 - plan.treatment_share)
        control = TTestIndPower().solve_power(
            effect_size=abs(plan.minimum_effect) / plan.standard_deviation,
            alpha=ALPHA,
            power=TARGET,
            ratio=ratio,
        )
        expected = math.ceil(control / ((1 - plan.treatment_share) * plan.units_per_month))
        assert pilot_duration(plan).fixed_horizon_months == expected


# --- always-valid months ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    baseline=st.floats(0.01, 0.5),
    relative=st.floats(0.05, 0.8),
    units=st.integers(200, 200_000),
    share=st.floats(0.1, 0.9),
)
def test_looking_every_month_never_needs_fewer_months_than_one_look(baseline, relative, units, share):
    plan = ProportionPlan.from_relative_lift(
        baseline_rate=baseline, relative_lift=relative, units_per_month=units, treatment_share=share
    )
    duration = pilot_duration(plan)
    if duration.months is not None:
        assert duration.fixed_horizon_months is not None
        assert duration.months >= duration.fixed_horizon_months
        assert duration.power_at_months >= TARGET


def test_the_default_tau_is_the_gates_for_a_target_that_claims_the_minimum_effect():
    claimed = tau_for_claimed_effect(baseline=0.04, target=0.052, control_level=0.04)
    assert pilot_duration(CLICK_THROUGH).tau == pytest.approx(claimed)
    assert CLICK_THROUGH.minimum_effect == pytest.approx(0.012)


def test_a_larger_claimed_effect_tunes_the_test_away_from_the_minimum_and_lengthens_the_pilot():
    tuned = pilot_duration(CLICK_THROUGH)
    # The KPI's target promises +100% while the minimum that matters is +30%.
    promised = tau_for_claimed_effect(baseline=0.04, target=0.08, control_level=0.04)
    mistuned = pilot_duration(CLICK_THROUGH, tau=promised)
    assert tuned.months is not None and mistuned.months is not None
    assert mistuned.months >= tuned.months


def test_more_traffic_never_lengthens_the_pilot():
    durations = [
        pilot_duration(ProportionPlan(0.05, 0.01, units)) for units in (500, 1000, 2000, 4000, 8000, 16000)
    ]
    months = [d.months for d in durations if d.months is not None]
    assert len(months) == len(durations)
    assert months == sorted(months, reverse=True)


def test_a_mean_kpi_to_lower_needs_as_long_as_one_to_raise_by_as_much():
    raise_it = MeanPlan(300, 120, +15, 1000)
    assert pilot_duration(HANDLING_TIME).months == pilot_duration(raise_it).months


def _proportion_pilots(plan: ProportionPlan, months: int, seed: int) -> list[list[ProportionLook]]:
    rng = np.random.default_rng(seed)
    control_units = round(plan.units_per_month * (1 - plan.treatment_share))
    treated_units = round(plan.units_per_month * plan.treatment_share)
    control = rng.binomial(control_units, plan.baseline_rate, size=(PILOTS, months)).cumsum(axis=1)
    treated = rng.binomial(treated_units, plan.treatment_rate, size=(PILOTS, months)).cumsum(axis=1)
    return [
        [
            ProportionLook(
                control_units * k, int(control[p, k - 1]), treated_units * k, int(treated[p, k - 1])
            )
            for k in range(1, months + 1)
        ]
        for p in range(PILOTS)
    ]


def _simulated_go_rate(pilots, months: int, *, tau: float, test, direction: str) -> float:
    """Share of pilots the committee's always-valid rule calls a Go at the look of month `months`
    (running p-value and running interval over that month's looks and those before)."""
    goes = sum(
        sequence_is_significant(test(looks[:months], tau=tau, confidence=1 - ALPHA), direction, ALPHA)
        for looks in pilots
    )
    return goes / len(pilots)


def test_simulated_rate_pilots_reach_the_target_power_in_the_computed_months():
    duration = pilot_duration(CLICK_THROUGH, alpha=ALPHA, power=TARGET)
    assert duration.months == 5  # against 3 with a single look decided in advance
    assert duration.fixed_horizon_months == 3
    pilots = _proportion_pilots(CLICK_THROUGH, duration.months, seed=20261118)
    at_months = _simulated_go_rate(
        pilots, duration.months, tau=duration.tau, test=always_valid_proportions, direction=Direction.INCREASE
    )
    # Conservative: the computed power is that of the last look alone; earlier looks add to it.
    assert at_months >= duration.power_at_months - TOLERANCE
    assert at_months >= TARGET - TOLERANCE
    halfway = duration.months // 2
    at_half = _simulated_go_rate(
        pilots, halfway, tau=duration.tau, test=always_valid_proportions, direction=Direction.INCREASE
    )
    assert at_half < TARGET - 0.2
    computed_at_half = always_valid_power(CLICK_THROUGH, months=halfway, alpha=ALPHA, tau=duration.tau)
    print(
        f"\nrate plan: {duration.months} months (fixed horizon {duration.fixed_horizon_months}); "
        f"computed power {duration.power_at_months:.3f}, simulated {at_months:.3f}; "
        f"at month {halfway}: computed {computed_at_half:.3f}, simulated {at_half:.3f}"
    )


def test_simulated_uneven_split_pilots_reach_the_target_power_in_the_computed_months():
    plan = ProportionPlan(0.10, 0.02, 2000, treatment_share=0.8)
    duration = pilot_duration(plan)
    assert duration.months is not None
    pilots = _proportion_pilots(plan, duration.months, seed=8)
    simulated = _simulated_go_rate(
        pilots, duration.months, tau=duration.tau, test=always_valid_proportions, direction=Direction.INCREASE
    )
    assert simulated >= TARGET - TOLERANCE
    print(f"\nuneven 20/80 plan: {duration.months} months; simulated power {simulated:.3f}")


def _mean_pilots(plan: MeanPlan, months: int, seed: int) -> list[list[MeanLook]]:
    """Unit-level values, summed month by month into cumulative means and sample variances."""
    rng = np.random.default_rng(seed)
    per_arm = round(plan.units_per_month / 2)
    arms = []
    for mean in (plan.baseline_mean, plan.baseline_mean + plan.minimum_effect):
        values = rng.normal(mean, plan.standard_deviation, size=(PILOTS, months, per_arm))
        sums, squares = values.sum(axis=2).cumsum(axis=1), (values**2).sum(axis=2).cumsum(axis=1)
        sizes = per_arm * np.arange(1, months + 1)
        means = sums / sizes
        arms.append((sizes, means, (squares - sizes * means**2) / (sizes - 1)))
    (sizes, c_mean, c_var), (_, t_mean, t_var) = arms
    return [
        [
            MeanLook(
                int(sizes[k]),
                float(c_mean[p, k]),
                float(c_var[p, k]),
                int(sizes[k]),
                float(t_mean[p, k]),
                float(t_var[p, k]),
            )
            for k in range(months)
        ]
        for p in range(PILOTS)
    ]


def test_simulated_mean_pilots_reach_the_target_power_in_the_computed_months():
    duration = pilot_duration(HANDLING_TIME)
    assert duration.months == 4
    pilots = _mean_pilots(HANDLING_TIME, duration.months, seed=29)
    simulated = _simulated_go_rate(
        pilots, duration.months, tau=duration.tau, test=always_valid_means, direction=Direction.DECREASE
    )
    assert simulated >= TARGET - TOLERANCE
    at_half = _simulated_go_rate(
        pilots, duration.months // 2, tau=duration.tau, test=always_valid_means, direction=Direction.DECREASE
    )
    assert at_half < TARGET - 0.2
    print(f"\nmean plan: {duration.months} months; simulated power {simulated:.3f}, at half {at_half:.3f}")


# --- a pilot that cannot show its effect -----------------------------------------------------


def test_traffic_too_small_for_the_effect_gives_no_time_box():
    plan = ProportionPlan(0.04, 0.004, 200)  # 100 visitors an arm a month for a 0.4-point lift
    duration = pilot_duration(plan)
    assert duration.months is None and not duration.reachable
    assert duration.fixed_horizon_months is None
    assert duration.power_at_months < TARGET
    assert duration.reason_code == UNREACHABLE
    assert "months" not in duration.reason_params()
    assert duration.deadline(dt.date(2026, 11, 18)) is None
    assert duration.units_needed is None


def test_a_pilot_classical_power_could_time_box_but_monthly_looks_cannot():
    plan = ProportionPlan(0.04, 0.012, 100)
    duration = pilot_duration(plan)
    assert duration.months is None
    assert duration.fixed_horizon_months is not None and duration.fixed_horizon_months <= 120


def test_a_look_without_enough_data_has_no_power():
    plan = ProportionPlan(0.01, 0.01, 200)  # 1 expected success a month in the control arm
    assert always_valid_power(plan, months=1, alpha=ALPHA, tau=0.01) == 0.0
    assert fixed_horizon_power(plan, months=1, alpha=ALPHA) == 0.0


def test_the_duration_carries_the_figures_a_committee_sentence_needs():
    duration = pilot_duration(CLICK_THROUGH)
    assert duration.reason_code == REACHABLE
    assert duration.reason_params() == {
        "power": "80%",
        "alpha": "0.05",
        "max_months": 120,
        "power_reached": f"{duration.power_at_months:.0%}",
        "months": 5,
        "fixed_horizon_months": 3,
    }
    assert duration.units_needed == 20_000


def test_a_shorter_cap_can_put_the_effect_out_of_reach():
    assert pilot_duration(CLICK_THROUGH, max_months=4).months is None
    assert pilot_duration(CLICK_THROUGH, max_months=5).months == 5


# --- the deadline ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "deadline"),
    [
        (dt.date(2026, 11, 18), 3, dt.date(2027, 2, 18)),  # across a year boundary
        (dt.date(2026, 12, 1), 1, dt.date(2027, 1, 1)),
        (dt.date(2026, 10, 31), 4, dt.date(2027, 2, 28)),  # a day February lacks
        (dt.date(2027, 11, 30), 3, dt.date(2028, 2, 29)),  # a leap year
        (dt.date(2026, 1, 15), 24, dt.date(2028, 1, 15)),
        (dt.date(2026, 5, 31), 1, dt.date(2026, 6, 30)),
    ],
)
def test_the_deadline_is_the_start_plus_calendar_months(start, months, deadline):
    assert pilot_deadline(start, months) == deadline


def test_the_duration_proposes_its_deadline():
    assert pilot_duration(CLICK_THROUGH).deadline(dt.date(2026, 11, 18)) == dt.date(2027, 4, 18)


def test_a_deadline_needs_at_least_a_month():
    with pytest.raises(ValueError, match="at least one month"):
        pilot_deadline(dt.date(2026, 11, 18), 0)


# --- bad plans --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"baseline_rate": 0.0, "minimum_effect": 0.01, "units_per_month": 100}, "baseline rate"),
        ({"baseline_rate": 1.0, "minimum_effect": -0.01, "units_per_month": 100}, "baseline rate"),
        ({"baseline_rate": 0.95, "minimum_effect": 0.1, "units_per_month": 100}, "outside 0 to 1"),
        ({"baseline_rate": 0.1, "minimum_effect": 0.0, "units_per_month": 100}, "nonzero"),
        ({"baseline_rate": 0.1, "minimum_effect": math.nan, "units_per_month": 100}, "nonzero"),
        ({"baseline_rate": 0.1, "minimum_effect": 0.01, "units_per_month": 0}, "traffic"),
        (
            {"baseline_rate": 0.1, "minimum_effect": 0.01, "units_per_month": 100, "treatment_share": 1.0},
            "share",
        ),
    ],
)
def test_a_rate_plan_that_cannot_be_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        ProportionPlan(**arguments)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"standard_deviation": 0.0}, "standard deviation"),
        ({"standard_deviation": -1.0}, "standard deviation"),
        ({"baseline_mean": math.inf}, "baseline mean"),
        ({"minimum_effect": 0.0}, "nonzero"),
    ],
)
def test_a_mean_plan_that_cannot_be_is_refused(arguments, message):
    plan = {
        "baseline_mean": 300.0,
        "standard_deviation": 120.0,
        "minimum_effect": -15.0,
        "units_per_month": 1000,
    }
    with pytest.raises(ValueError, match=message):
        MeanPlan(**(plan | arguments))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"alpha": 0.0}, "Alpha"),
        ({"alpha": 1.0}, "Alpha"),
        ({"power": 1.0}, "power"),
        ({"power": 0.0}, "power"),
        ({"tau": 0.0}, "τ"),
        ({"max_months": 0}, "at least one month"),
    ],
)
def test_a_duration_asked_with_impossible_levels_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        pilot_duration(CLICK_THROUGH, **arguments)
