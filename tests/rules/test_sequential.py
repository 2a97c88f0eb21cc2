"""Always-valid inference: honest under monthly peeking, and still able to detect a real lift."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from governance.rules.peeking import (
    DESIGNS,
    PeekingScenario,
    binomial_upper_quantile,
    rate_upper_bound,
    simulate,
)
from projects.sequential import (
    MeanLook,
    ProportionLook,
    always_valid_means,
    always_valid_proportions,
    tau_for_claimed_effect,
)
from projects.statistics import two_proportion_test

ALPHA = 0.05
PILOTS = 2000
# Binomial standard error of a 5% rate over 2,000 pilots is sqrt(0.05 * 0.95 / 2000) = 0.49 points;
# two standard errors of slack keeps a fixed-seed test from depending on one unlucky draw.
MARGIN = 2 * math.sqrt(ALPHA * (1 - ALPHA) / PILOTS)


@pytest.fixture(scope="module")
def null_pilots():
    return simulate(PeekingScenario(pilots=PILOTS, looks=12, seed=7))


def test_always_valid_false_go_rate_stays_within_alpha_over_twelve_monthly_looks(null_pilots):
    assert null_pilots.always_valid_rate <= ALPHA + MARGIN


def test_the_naive_monthly_re_test_lets_too_many_null_pilots_through(null_pilots):
    assert null_pilots.fixed_horizon_rate > ALPHA + MARGIN
    # In either direction, about one null pilot in five crosses p < 0.05 at some look.
    assert 0.15 < null_pilots.fixed_horizon_any_direction / PILOTS < 0.25


def test_a_real_thirty_percent_lift_is_detected_within_a_six_month_pilot_in_most_runs():
    """2,000 visitors per arm per month, click-through 4.0% against 5.2%."""
    report = simulate(PeekingScenario(pilots=500, looks=6, treatment_rate=0.052, seed=11))
    assert report.detected_within(6) >= 0.8
    assert report.median_detection_month() <= 4


def test_the_interval_narrows_and_the_p_value_never_rises_as_looks_accumulate():
    looks = [ProportionLook(2000 * k, 80 * k, 2000 * k, 100 * k) for k in range(1, 7)]
    tau = tau_for_claimed_effect(baseline=0.04, target=0.052, control_level=0.04)
    results = [always_valid_proportions(looks[:k], tau=tau) for k in range(1, 7)]
    widths = [r.cs_high - r.cs_low for r in results]
    assert widths == sorted(widths, reverse=True)
    p_values = [r.p_value for r in results]
    assert p_values == sorted(p_values, reverse=True)
    assert results[-1].first_significant_look is not None


def test_the_always_valid_interval_is_wider_than_the_fixed_horizon_one():
    look = ProportionLook(10000, 400, 10000, 520)
    fixed = two_proportion_test(
        control_size=10000, control_successes=400, treatment_size=10000, treatment_successes=520
    )
    valid = always_valid_proportions([look], tau=0.012)
    assert valid.cs_low < fixed.ci_low and valid.cs_high > fixed.ci_high
    assert valid.p_value > fixed.p_value
    assert math.isclose(valid.difference, fixed.lift)


def test_a_look_with_no_new_data_changes_nothing():
    first = ProportionLook(4000, 160, 4000, 200)
    once = always_valid_proportions([first], tau=0.012)
    twice = always_valid_proportions([first, first], tau=0.012)
    assert (twice.p_value, twice.cs_low, twice.cs_high) == (once.p_value, once.cs_low, once.cs_high)


@pytest.mark.parametrize(
    "second",
    [
        ProportionLook(3999, 160, 4000, 200),
        ProportionLook(4000, 159, 4000, 200),
        ProportionLook(4000, 160, 3000, 200),
        ProportionLook(4000, 160, 4000, 199),
    ],
)
def test_decreasing_counts_are_refused(second):
    with pytest.raises(ValueError, match="cumulative"):
        always_valid_proportions([ProportionLook(4000, 160, 4000, 200), second], tau=0.012)


@pytest.mark.parametrize(
    ("look", "message"),
    [
        (ProportionLook(0, 0, 10, 1), "no observations"),
        (ProportionLook(10, 11, 10, 1), "11 successes out of 10"),
        (ProportionLook(10, -1, 10, 1), "successes"),
    ],
)
def test_impossible_counts_are_refused(look, message):
    with pytest.raises(ValueError, match=message):
        always_valid_proportions([look], tau=0.01)


def test_no_looks_and_a_zero_tau_are_refused():
    with pytest.raises(ValueError, match="at least one look"):
        always_valid_proportions([], tau=0.01)
    with pytest.raises(ValueError, match="τ"):
        always_valid_proportions([ProportionLook(10, 1, 10, 2)], tau=0)


@pytest.mark.parametrize(
    "look",
    [ProportionLook(5000, 0, 5000, 0), ProportionLook(5000, 5000, 5000, 5000)],
    ids=["zero successes", "all successes"],
)
def test_arms_without_spread_give_no_evidence(look):
    result = always_valid_proportions([look], tau=0.01)
    assert result.p_value == 1.0
    assert not result.enough_data


def test_tiny_samples_are_flagged_and_cannot_be_a_go():
    result = always_valid_proportions([ProportionLook(3, 0, 3, 3)], tau=0.5)
    assert not result.enough_data
    assert "too few observations" in result.describe()


def test_tau_follows_the_claimed_effect_on_the_experiment_scale():
    # First response time must fall 30%; the experiment counts tickets waiting over 30 minutes (63%).
    assert math.isclose(tau_for_claimed_effect(baseline=60, target=42, control_level=0.63), 0.189)
    assert tau_for_claimed_effect(baseline=0, target=5, control_level=0.1) == 5


def _mean_looks(rng, effect, months=12, per_month=200):
    control = rng.normal(60, 20, size=months * per_month)
    treatment = rng.normal(60 + effect, 20, size=months * per_month)
    looks = []
    for k in range(1, months + 1):
        c, t = control[: k * per_month], treatment[: k * per_month]
        looks.append(
            MeanLook(
                len(c), float(c.mean()), float(c.var(ddof=1)), len(t), float(t.mean()), float(t.var(ddof=1))
            )
        )
    return looks


def test_means_false_go_rate_stays_within_alpha_under_monthly_looks():
    """First-response-time style KPI: 200 tickets per arm per month, no real effect."""
    rng = np.random.default_rng(3)
    pilots, tau = 400, 18.0  # tuned to a claimed 30% cut of a 60-minute mean
    false_go = 0
    for _ in range(pilots):
        looks = _mean_looks(rng, effect=0)
        if any(always_valid_means(looks[:k], tau=tau).p_value < ALPHA for k in range(1, 13)):
            false_go += 1
    assert false_go / pilots <= ALPHA + 2 * math.sqrt(ALPHA * (1 - ALPHA) / pilots)


def test_means_detect_a_real_cut_in_response_time():
    rng = np.random.default_rng(5)
    result = always_valid_means(_mean_looks(rng, effect=-18, months=3), tau=18.0)
    assert result.cs_high < 0 and result.p_value < ALPHA and result.enough_data


@pytest.mark.parametrize(
    ("look", "message"),
    [
        (MeanLook(1, 1.0, 0.0, 10, 1.0, 1.0), "at least two observations"),
        (MeanLook(10, float("nan"), 1.0, 10, 1.0, 1.0), "finite"),
        (MeanLook(10, 1.0, -1.0, 10, 1.0, 1.0), "negative"),
    ],
)
def test_bad_mean_looks_are_refused(look, message):
    with pytest.raises(ValueError, match=message):
        always_valid_means([look], tau=1.0)


# --- Looks without enough data, and looks that contradict each other ---------------------------

# A 2% holdout: 60 control visitors in the first days, none of them converting, against 3,000
# treated visitors at the same 4% rate; then the experiment runs on with no real effect.
THIN_FIRST_LOOK = [
    ProportionLook(60, 0, 3000, 120),
    ProportionLook(260, 10, 13000, 520),
    ProportionLook(460, 18, 23000, 921),
]


def test_a_thin_first_look_decides_nothing_and_later_looks_are_judged_on_their_own():
    thin = always_valid_proportions(THIN_FIRST_LOOK, tau=0.012)
    without = always_valid_proportions(THIN_FIRST_LOOK[1:], tau=0.012)
    assert (thin.p_value, thin.cs_low, thin.cs_high) == (without.p_value, without.cs_low, without.cs_high)
    assert thin.cs_low < 0 < thin.cs_high and thin.p_value > ALPHA
    assert thin.first_significant_look is None
    assert (thin.looks, thin.looks_with_enough_data) == (3, 2)
    assert "3 looks, 1 of them too thin to count" in thin.describe()


def test_a_single_thin_look_leaves_the_interval_unbounded():
    result = always_valid_proportions(THIN_FIRST_LOOK[:1], tau=0.012)
    assert (result.cs_low, result.cs_high, result.p_value) == (-math.inf, math.inf, 1.0)
    assert not result.enough_data


def test_looks_whose_intervals_do_not_overlap_are_flagged_and_keep_the_latest_look_s_interval():
    # First 5.0% against 3.0%, then, over twenty times the traffic, 4.0% against 4.4%.
    looks = [ProportionLook(5000, 250, 5000, 150), ProportionLook(100_000, 4000, 100_000, 4400)]
    result = always_valid_proportions(looks, tau=0.012)
    latest = always_valid_proportions(looks[1:], tau=0.012)
    assert result.contradictory
    assert (result.cs_low, result.cs_high) == (latest.cs_low, latest.cs_high)
    assert result.cs_low < result.difference < result.cs_high  # not collapsed to the point estimate
    assert result.describe().startswith("the looks contradict each other after 2 looks")


# --- The promise, design by design: at most alpha false Go over twelve monthly looks --------------

DESIGN_PILOTS = 400


def binomial_quantile(trials: int, rate: float, probability: float) -> int:
    cumulative = 0.0
    for k in range(trials + 1):
        cumulative += math.comb(trials, k) * rate**k * (1 - rate) ** (trials - k)
        if cumulative >= probability:
            return k
    return trials


# Were the false-Go rate exactly alpha, more false Go than this among DESIGN_PILOTS null pilots
# would happen with probability below 0.1%: a larger count says the promise does not hold.
FALSE_GO_BOUND = binomial_quantile(DESIGN_PILOTS, ALPHA, 0.999)


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_the_always_valid_false_go_rate_stays_within_alpha_in_every_checked_design(design):
    report = simulate(replace(DESIGNS[design], pilots=DESIGN_PILOTS, seed=7))
    assert report.always_valid_go <= FALSE_GO_BOUND


def test_the_checked_designs_include_a_small_holdout_rare_events_and_a_thin_first_look():
    holdout = DESIGNS["small holdout 1:50, rare events, thin first look"]
    assert holdout.treatment_per_control == 50 and holdout.control_rate == 0.005
    assert holdout.first_look_sizes() == (120, 6000)
    assert DESIGNS["small holdout 1:50, thin first look"].first_look_sizes()[0] == 60
    assert all(d.looks == 12 and d.treatment_rate == d.control_rate for d in DESIGNS.values())


def test_the_reported_upper_bound_of_a_false_go_rate_is_clopper_pearson_even_for_large_counts():
    assert rate_upper_bound(0, 100) == pytest.approx(1 - 0.05 ** (1 / 100), abs=1e-9)
    assert 0.5 < rate_upper_bound(1030, 2000) < 0.54
    assert binomial_upper_quantile(DESIGN_PILOTS, ALPHA, 0.999) == FALSE_GO_BOUND
