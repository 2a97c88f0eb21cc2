"""The two-proportion test behind the scale gate's experiment requirement (pure, no database)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from projects.statistics import TwoProportionResult, two_proportion_test

Z_95 = 1.959963984540054  # standard normal quantile at 0.975, from published tables


def run(control: tuple[int, int], treatment: tuple[int, int], **kwargs) -> TwoProportionResult:
    return two_proportion_test(
        control_size=control[0],
        control_successes=control[1],
        treatment_size=treatment[0],
        treatment_successes=treatment[1],
        **kwargs,
    )


def reference(control: tuple[int, int], treatment: tuple[int, int]) -> tuple[float, float, float]:
    """p-value (pooled z, via erfc) and the 95% Wald interval, written out independently."""
    (n_c, x_c), (n_t, x_t) = control, treatment
    p_c, p_t = x_c / n_c, x_t / n_t
    pooled = (x_c + x_t) / (n_c + n_t)
    z = (p_t - p_c) / math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    p_value = math.erfc(abs(z) / math.sqrt(2))
    half_width = Z_95 * math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    return p_value, (p_t - p_c) - half_width, (p_t - p_c) + half_width


@st.composite
def arm(draw, max_size: int = 1_000_000) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=max_size))
    return size, draw(st.integers(min_value=0, max_value=size))


# --- worked examples -------------------------------------------------------------------------


def test_retail_copywriting_pilot_lift_is_not_significant():
    """The retailer's case: +2.3% relative click-through (4000 -> 4092 clicks per 100000) proves nothing."""
    result = run((100_000, 4_000), (100_000, 4_092))
    expected_p, expected_low, expected_high = reference((100_000, 4_000), (100_000, 4_092))

    assert result.control_rate == pytest.approx(0.04)
    assert result.treatment_rate == pytest.approx(0.04092)
    assert result.lift == pytest.approx(0.00092)
    assert result.relative_lift == pytest.approx(0.023)
    assert result.p_value == pytest.approx(expected_p, rel=1e-9)
    assert result.p_value == pytest.approx(0.2965, abs=1e-4)
    assert result.p_value > 0.05
    assert result.ci_low == pytest.approx(expected_low, rel=1e-9)
    assert result.ci_high == pytest.approx(expected_high, rel=1e-9)
    assert result.ci_low < 0 < result.ci_high


def test_thirty_percent_relative_lift_on_five_thousand_per_arm_is_significant():
    result = run((5_000, 500), (5_000, 650))
    expected_p, expected_low, expected_high = reference((5_000, 500), (5_000, 650))

    assert result.lift == pytest.approx(0.03)
    assert result.relative_lift == pytest.approx(0.30)
    assert result.p_value == pytest.approx(expected_p, rel=1e-6)
    assert result.p_value < 0.001
    assert result.ci_low == pytest.approx(expected_low, rel=1e-9)
    assert result.ci_high == pytest.approx(expected_high, rel=1e-9)
    assert 0 < result.ci_low < result.lift < result.ci_high


def test_physicians_health_study_matches_published_figures():
    """Agresti, Categorical Data Analysis: placebo 189/11034 vs aspirin 104/11037 heart attacks.

    Published: difference of proportions 0.0077, 95% CI (0.005, 0.011), Pearson X^2 = 25.01
    (which, for a 2x2 table, is the square of the pooled z statistic).
    """
    result = run((11_034, 189), (11_037, 104))

    assert result.lift == pytest.approx(-0.0077, abs=5e-5)
    assert round(result.ci_low, 3) == -0.011
    assert round(result.ci_high, 3) == -0.005
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(25.01) / math.sqrt(2)), rel=0.01)


def test_identical_arms_show_no_difference():
    result = run((2_000, 300), (2_000, 300))

    assert result.lift == 0
    assert result.relative_lift == 0
    assert result.p_value == pytest.approx(1.0)
    assert result.ci_low < 0 < result.ci_high


def test_higher_confidence_gives_a_wider_interval_and_same_p_value():
    at_95 = run((5_000, 500), (5_000, 560))
    at_99 = run((5_000, 500), (5_000, 560), confidence=0.99)

    assert at_99.p_value == at_95.p_value
    assert at_99.ci_low < at_95.ci_low
    assert at_99.ci_high > at_95.ci_high
    assert at_99.confidence == 0.99


def test_describe_shows_lift_interval_and_p_value():
    text = run((100_000, 4_000), (100_000, 4_092)).describe()

    assert "lift +0.0009" in text
    assert "+2.3% relative" in text
    assert "95% CI -0.0008 to +0.0026" in text
    assert "p = 0.2965" in text


def test_describe_omits_relative_lift_when_control_rate_is_zero():
    result = run((100, 0), (100, 10))

    assert result.relative_lift is None
    assert "relative" not in result.describe()


# --- all-success and all-failure arms ------------------------------------------------------------


@pytest.mark.parametrize("successes", [0, 1])
def test_both_arms_all_success_or_all_failure_is_no_evidence(successes):
    result = run((500, 500 * successes), (800, 800 * successes))

    assert result.lift == 0
    assert result.p_value == 1.0
    assert result.ci_low == 0
    assert result.ci_high == 0


def test_all_failure_control_against_all_success_treatment():
    result = run((50, 0), (50, 50))

    assert result.control_rate == 0
    assert result.treatment_rate == 1
    assert result.lift == 1
    assert result.relative_lift is None
    assert 0 <= result.p_value < 1e-6
    assert result.ci_low <= result.lift <= result.ci_high


def test_all_success_control_against_all_failure_treatment():
    result = run((50, 50), (50, 0))

    assert result.lift == -1
    assert result.relative_lift == -1
    assert 0 <= result.p_value < 1e-6


def test_one_all_failure_arm_still_gets_an_interval_from_the_other_arm():
    result = run((1_000, 0), (1_000, 3))
    expected_p, expected_low, expected_high = reference((1_000, 0), (1_000, 3))

    assert result.p_value == pytest.approx(expected_p, rel=1e-9)
    assert result.ci_low == pytest.approx(expected_low, rel=1e-9)
    assert result.ci_high == pytest.approx(expected_high, rel=1e-9)
    assert result.ci_low < 0 < result.ci_high


# --- refused input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("control", "treatment", "arm_named"),
    [
        ((0, 0), (100, 10), "control"),
        ((100, 10), (0, 0), "treatment"),
        ((-5, 0), (100, 10), "control"),
        ((100, 10), (-1, 0), "treatment"),
    ],
)
def test_an_arm_without_observations_is_refused(control, treatment, arm_named):
    with pytest.raises(ValueError, match=f"{arm_named} arm has no observations"):
        run(control, treatment)


@pytest.mark.parametrize(
    ("control", "treatment", "message"),
    [
        ((100, 101), (100, 10), "control arm has 101 successes out of 100"),
        ((100, 10), (100, 101), "treatment arm has 101 successes out of 100"),
        ((100, -1), (100, 10), "control arm has -1 successes out of 100"),
        ((100, 10), (100, -1), "treatment arm has -1 successes out of 100"),
    ],
)
def test_impossible_success_counts_are_refused(control, treatment, message):
    with pytest.raises(ValueError, match=message):
        run(control, treatment)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, math.nan])
def test_confidence_outside_the_open_unit_interval_is_refused(confidence):
    with pytest.raises(ValueError, match="Confidence"):
        run((100, 10), (100, 20), confidence=confidence)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(control=arm(), treatment=arm())
def test_p_value_is_a_probability_and_interval_contains_lift(control, treatment):
    result = run(control, treatment)

    assert 0.0 <= result.p_value <= 1.0
    assert 0.0 <= result.control_rate <= 1.0
    assert 0.0 <= result.treatment_rate <= 1.0
    assert result.lift == pytest.approx(result.treatment_rate - result.control_rate)
    assert result.ci_low <= result.lift <= result.ci_high
    assert (result.relative_lift is None) == (result.control_rate == 0)


@settings(max_examples=200, deadline=None)
@given(control=arm(), treatment=arm())
def test_swapping_arms_negates_lift_and_keeps_p_value(control, treatment):
    forward = run(control, treatment)
    backward = run(treatment, control)

    assert backward.lift == pytest.approx(-forward.lift, abs=1e-15)
    assert backward.p_value == pytest.approx(forward.p_value, abs=1e-15)
    assert backward.ci_low == pytest.approx(-forward.ci_high, abs=1e-15)
    assert backward.ci_high == pytest.approx(-forward.ci_low, abs=1e-15)


@settings(max_examples=200, deadline=None)
@given(control=arm(), treatment=arm())
def test_agrees_with_the_textbook_formulas(control, treatment):
    (n_c, x_c), (n_t, x_t) = control, treatment
    pooled = (x_c + x_t) / (n_c + n_t)
    assume(0 < pooled < 1)
    result = run(control, treatment)
    expected_p, expected_low, expected_high = reference(control, treatment)

    # 1 - cdf(z) loses relative precision in the far tail; compare absolutely there.
    assert result.p_value == pytest.approx(expected_p, rel=1e-6, abs=1e-12)
    assert result.ci_low == pytest.approx(expected_low, rel=1e-9, abs=1e-12)
    assert result.ci_high == pytest.approx(expected_high, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(control=arm(max_size=10_000), treatment=arm(max_size=10_000), factor=st.integers(2, 100))
def test_interval_narrows_as_the_sample_grows(control, treatment, factor):
    """Same rates on factor times the observations: width divides by sqrt(factor)."""
    small = run(control, treatment)
    large = run((control[0] * factor, control[1] * factor), (treatment[0] * factor, treatment[1] * factor))
    small_width = small.ci_high - small.ci_low
    large_width = large.ci_high - large.ci_low

    assert large.lift == pytest.approx(small.lift, abs=1e-15)
    assert large_width == pytest.approx(small_width / math.sqrt(factor), rel=1e-9, abs=1e-15)
    if small_width > 0:
        assert large_width < small_width
    assert large.p_value <= small.p_value + 1e-12


@settings(max_examples=200, deadline=None)
@given(control=arm(), treatment=arm())
def test_lower_confidence_never_widens_the_interval(control, treatment):
    result = run(control, treatment)
    at_90 = run(control, treatment, confidence=0.90)

    assert at_90.p_value == result.p_value
    assert at_90.ci_high - at_90.ci_low <= result.ci_high - result.ci_low + 1e-15
