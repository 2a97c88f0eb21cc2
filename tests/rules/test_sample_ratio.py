"""Sample-ratio checks: honest about a sound split under monthly looks, quick to flag a broken one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from projects.sample_ratio import (
    AS_PLANNED,
    DEFAULT_SRM_ALPHA,
    MISMATCH,
    PlannedSplit,
    log_bayes_factor,
    sample_ratio_check,
)

PILOTS = 2000
LOOKS = 12
UNITS_PER_MONTH = 2000


def simulated_pilots(true_shares, *, seed: int, units_per_month: int = UNITS_PER_MONTH) -> np.ndarray:
    """Cumulative arm sizes of PILOTS pilots at LOOKS monthly looks: shape (pilots, looks, arms)."""
    rng = np.random.default_rng(seed)
    monthly = rng.multinomial(units_per_month, true_shares, size=(PILOTS, LOOKS))
    return monthly.cumsum(axis=1)


def flagged_rate(pilots: np.ndarray, planned: PlannedSplit, *, alpha: float) -> float:
    flagged = sum(sample_ratio_check(pilot.tolist(), planned, alpha=alpha).mismatch for pilot in pilots)
    return flagged / len(pilots)


@st.composite
def plan_and_counts(draw, max_arms: int = 5, max_units: int = 200_000):
    arms = draw(st.integers(2, max_arms))
    weights = draw(st.lists(st.floats(0.05, 1.0), min_size=arms, max_size=arms))
    shares = tuple(w / sum(weights) for w in weights)
    counts = tuple(draw(st.lists(st.integers(0, max_units), min_size=arms, max_size=arms)))
    return PlannedSplit(shares), counts


def scipy_log_bayes_factor(counts, shares, concentration: float) -> float:
    """ln BF written with scipy's log multivariate beta: ln B(a + n) − ln B(a) − Σ nᵢ ln pᵢ."""
    prior = concentration * np.asarray(shares)
    n = np.asarray(counts, dtype=float)

    def log_beta(x):
        return special.gammaln(x).sum() - special.gammaln(x.sum())

    return float(log_beta(prior + n) - log_beta(prior) - special.xlogy(n, shares).sum())


# --- the Bayes factor against independent computations ---------------------------------------


@settings(max_examples=200, deadline=None)
@given(plan_and_counts(), st.floats(1.0, 20_000.0))
def test_the_bayes_factor_is_the_dirichlet_multinomial_ratio_scipy_computes(case, concentration):
    planned, counts = case
    ours = log_bayes_factor(counts, planned, concentration=concentration)
    assert math.isclose(ours, scipy_log_bayes_factor(counts, planned.shares, concentration), abs_tol=1e-6)
    if sum(counts) > 0:
        # The same ratio from scipy's two distributions of the counts (their coefficients cancel).
        prior = concentration * np.asarray(planned.shares)
        mixture = stats.dirichlet_multinomial.logpmf(counts, prior, sum(counts))
        plan = stats.multinomial.logpmf(counts, sum(counts), planned.shares)
        assert math.isclose(ours, mixture - plan, rel_tol=1e-7, abs_tol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 50_000), st.integers(1, 50_000), st.floats(10.0, 10_000.0))
def test_for_two_arms_the_multivariate_beta_is_scipys_beta(control, treatment, concentration):
    planned = PlannedSplit.even()
    a = concentration / 2
    reference = (
        special.betaln(a + control, a + treatment)
        - special.betaln(a, a)
        + (control + treatment) * math.log(2)
    )
    assert math.isclose(
        log_bayes_factor((control, treatment), planned, concentration=concentration),
        reference,
        rel_tol=1e-9,
        abs_tol=1e-6,
    )


def test_monthly_batches_give_the_factor_of_the_cumulative_counts():
    """Updating the mixture batch by batch (Lindon & Malek's posterior predictive) or at once from
    the cumulative counts is the same number: a look's factor needs only that look's sizes."""
    planned = PlannedSplit((0.2, 0.3, 0.5))
    prior = 1000 * np.asarray(planned.shares)
    batches = np.array([[210, 290, 500], [190, 340, 470], [260, 300, 440], [180, 310, 510]])
    log_factor = 0.0
    for batch in batches:
        size = int(batch.sum())
        log_factor += stats.dirichlet_multinomial.logpmf(batch, prior, size) - stats.multinomial.logpmf(
            batch, size, planned.shares
        )
        prior = prior + batch
    cumulative = tuple(int(n) for n in batches.sum(axis=0))
    assert math.isclose(log_bayes_factor(cumulative, planned, concentration=1000), log_factor, rel_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(plan_and_counts(), st.floats(1.0, 20_000.0))
def test_the_always_valid_p_value_never_claims_more_than_the_likelihood_ratio_allows(case, concentration):
    """A mixture of likelihood ratios is at most the largest one, e^(G/2) (G the G-test statistic),
    so 1/BF ≥ e^(−G/2): the sequential check is never more alarmed than the data can justify."""
    planned, counts = case
    units = sum(counts)
    if units == 0:
        return
    g_statistic, _ = stats.power_divergence(
        counts, [units * p for p in planned.shares], lambda_="log-likelihood"
    )
    result = sample_ratio_check([counts], planned, concentration=concentration)
    assert result.p_value >= math.exp(-g_statistic / 2) * (1 - 1e-9)


def test_a_single_look_agrees_with_the_fixed_horizon_chi_square_in_direction():
    planned = PlannedSplit.even()
    gross = (9_000, 11_000)  # 45/55
    assert stats.chisquare(gross).pvalue < 1e-10
    assert sample_ratio_check([gross], planned).p_value < 1e-10
    exact = (10_000, 10_000)
    assert stats.chisquare(exact).pvalue == 1.0
    assert sample_ratio_check([exact], planned).p_value == 1.0
    # In between, the sequential p-value is the larger: the price of being valid at every look.
    slight = (9_860, 10_140)
    fixed = stats.chisquare(slight).pvalue
    assert 0.01 < fixed < 0.1
    assert sample_ratio_check([slight], planned).p_value > fixed


# --- the guarantee and the power, by simulation ----------------------------------------------


@pytest.fixture(scope="module")
def sound_pilots() -> np.ndarray:
    return simulated_pilots([0.5, 0.5], seed=20261118)


def test_a_correct_split_is_flagged_in_at_most_five_percent_of_twelve_look_pilots(sound_pilots):
    """At alpha 0.05 the always-valid guarantee is at most 5% over all twelve looks together."""
    margin = 2 * math.sqrt(0.05 * 0.95 / PILOTS)
    rate = flagged_rate(sound_pilots, PlannedSplit.even(), alpha=0.05)
    assert rate <= 0.05 + margin
    print(f"\nsound 50/50 split, 12 looks of {UNITS_PER_MONTH}: flagged {rate:.2%} at alpha 0.05")


def test_at_the_default_alpha_a_correct_split_is_almost_never_flagged(sound_pilots):
    rate = flagged_rate(sound_pilots, PlannedSplit.even(), alpha=DEFAULT_SRM_ALPHA)
    assert rate <= 0.005
    print(f"\nsound 50/50 split: flagged {rate:.2%} at alpha {DEFAULT_SRM_ALPHA}")


def test_an_uneven_correct_split_is_flagged_no_more_often_than_alpha():
    pilots = simulated_pilots([0.2, 0.8], seed=5)
    assert flagged_rate(pilots, PlannedSplit((0.2, 0.8)), alpha=0.05) <= 0.05 + 2 * math.sqrt(
        0.05 * 0.95 / PILOTS
    )


def test_a_fifty_fifty_plan_run_at_forty_five_fifty_five_is_flagged_within_the_pilot_in_most_runs():
    pilots = simulated_pilots([0.45, 0.55], seed=11)
    results = [sample_ratio_check(pilot.tolist(), PlannedSplit.even()) for pilot in pilots]
    rate = sum(r.mismatch for r in results) / PILOTS
    assert rate > 0.5
    months = sorted(r.first_mismatch_look or LOOKS + 1 for r in results)
    median = months[PILOTS // 2]
    assert median <= 3
    print(f"\n50/50 plan run at 45/55: flagged in {rate:.2%} of pilots, median at look {median}")


def test_a_small_mismatch_is_flagged_more_often_the_longer_the_pilot_runs():
    pilots = simulated_pilots([0.48, 0.52], seed=3)
    planned = PlannedSplit.even()
    after_three = sum(sample_ratio_check(p[:3].tolist(), planned).mismatch for p in pilots) / PILOTS
    after_twelve = sum(sample_ratio_check(p.tolist(), planned).mismatch for p in pilots) / PILOTS
    assert after_three < after_twelve
    assert after_twelve > 0.5


# --- the running p-value and the result's figures ---------------------------------------------


def test_the_p_value_is_the_running_minimum_over_the_looks():
    planned = PlannedSplit.even()
    looks = [(400, 600), (5_400, 5_600), (10_400, 10_600)]  # alarming at first, then diluted
    alone = [sample_ratio_check([look], planned).p_value for look in looks]
    assert alone[0] < alone[1]
    result = sample_ratio_check(looks, planned)
    assert result.p_value == min(alone)
    assert result.first_mismatch_look == 1
    assert result.mismatch


def test_the_result_carries_the_figures_a_committee_sentence_needs():
    result = sample_ratio_check([(900, 1_100), (1_800, 2_200)], PlannedSplit.even())
    assert result.reason_code == MISMATCH
    params = result.reason_params()
    assert params["observed"] == ("45.0%", "55.0%")
    assert params["planned"] == ("50.0%", "50.0%")
    assert params["looks"] == 2
    assert params["units"] == 4_000
    assert params["alpha"] == "0.001"
    p_value = params["p"]
    assert isinstance(p_value, str) and float(p_value) <= 0.001
    assert result.observed_percent == pytest.approx((45.0, 55.0))


def test_a_split_as_planned_says_so():
    result = sample_ratio_check([(1_000, 1_000)], PlannedSplit.even())
    assert result.reason_code == AS_PLANNED
    assert not result.mismatch and result.first_mismatch_look is None


# --- edge cases -----------------------------------------------------------------------------


def test_a_look_before_any_unit_arrived_proves_nothing():
    result = sample_ratio_check([(0, 0)], PlannedSplit.even())
    assert result.p_value == 1.0
    assert result.observed_shares == (0.0, 0.0)
    assert result.units == 0 and not result.mismatch


def test_an_arm_that_receives_nothing_is_a_mismatch():
    result = sample_ratio_check([(0, 200)], PlannedSplit.even())
    assert result.mismatch
    assert result.observed_shares == (0.0, 1.0)


def test_a_look_with_no_new_units_changes_nothing():
    planned = PlannedSplit.even()
    once = sample_ratio_check([(960, 1_040)], planned)
    twice = sample_ratio_check([(960, 1_040), (960, 1_040)], planned)
    assert twice.p_value == once.p_value and twice.looks == 2


def test_three_arms_against_their_plan():
    planned = PlannedSplit((0.25, 0.25, 0.5))
    assert not sample_ratio_check([(2_510, 2_480, 5_010)], planned).mismatch
    broken = sample_ratio_check([(2_500, 2_000, 5_500)], planned)
    assert broken.mismatch
    assert broken.reason_params()["observed"] == ("25.0%", "20.0%", "55.0%")


def test_numpy_counts_are_accepted():
    pilot = np.array([[1_000, 1_000], [2_000, 2_000]])
    assert sample_ratio_check(list(pilot), PlannedSplit.even()).arm_sizes == (2_000, 2_000)


def test_decreasing_counts_are_refused():
    with pytest.raises(ValueError, match="cumulative and cannot decrease"):
        sample_ratio_check([(1_000, 1_000), (900, 2_100)], PlannedSplit.even())


@pytest.mark.parametrize("look", [(-1, 10), (1.5, 10), (True, 10), ("3", 10)])
def test_counts_that_are_not_whole_units_are_refused(look):
    with pytest.raises(ValueError, match="whole and not negative"):
        sample_ratio_check([look], PlannedSplit.even())


def test_a_look_with_the_wrong_number_of_arms_is_refused():
    with pytest.raises(ValueError, match="3 arm sizes for a plan of 2 arms"):
        sample_ratio_check([(1, 2, 3)], PlannedSplit.even())


def test_no_looks_is_refused():
    with pytest.raises(ValueError, match="at least one look"):
        sample_ratio_check([], PlannedSplit.even())


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5])
def test_alpha_outside_zero_to_one_is_refused(alpha):
    with pytest.raises(ValueError, match="alpha"):
        sample_ratio_check([(1, 1)], PlannedSplit.even(), alpha=alpha)


@pytest.mark.parametrize("concentration", [0, -1, math.inf, math.nan])
def test_a_concentration_that_is_not_positive_is_refused(concentration):
    with pytest.raises(ValueError, match="concentration"):
        sample_ratio_check([(1, 1)], PlannedSplit.even(), concentration=concentration)


@pytest.mark.parametrize("shares", [(0.5, 0.6), (0.4, 0.4), (0.3, 0.3, 0.3)])
def test_shares_that_do_not_sum_to_one_are_refused(shares):
    with pytest.raises(ValueError, match="sum to 1"):
        PlannedSplit(shares)


@pytest.mark.parametrize("shares", [(0.0, 1.0), (-0.2, 1.2), (math.nan, 0.5), ("half", 0.5)])
def test_shares_that_are_not_positive_numbers_are_refused(shares):
    with pytest.raises(ValueError, match="planned share"):
        PlannedSplit(shares)


def test_one_arm_is_not_a_split():
    with pytest.raises(ValueError, match="at least two arms"):
        PlannedSplit((1.0,))


def test_shares_rounded_as_typed_are_rescaled_to_a_distribution():
    thirds = PlannedSplit((0.333333, 0.333333, 0.333334))
    assert math.isclose(math.fsum(thirds.shares), 1.0, abs_tol=1e-15)
    assert PlannedSplit.even(3).shares == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert PlannedSplit.control_treatment(0.8).shares == pytest.approx((0.2, 0.8))
