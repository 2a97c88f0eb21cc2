"""A/B significance: the two-proportion test, computed by ValueGate rather than taken on trust."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()
MIN_EXPECTED = 5
MIN_MEAN_ARM = 30  # observations per arm before a sample variance is trusted for a z-test


def proportions_have_enough_data(
    *, control_size: int, control_successes: int, treatment_size: int, treatment_successes: int
) -> bool:
    """The one rule for "enough data" in a comparison of two proportions, at one look.

    Each arm has at least MIN_EXPECTED successes and MIN_EXPECTED failures, both as counted and
    as expected under the pooled rate. The counted condition is the Wald interval's (it divides
    by the arm's own rate), the expected one the pooled z-test's; a look that fails either gives
    a variance that can be wildly off (0 successes of 60 in a small control arm has an estimated
    variance of zero), so it must decide nothing.
    """
    pooled = (control_successes + treatment_successes) / (control_size + treatment_size)
    return all(
        min(successes, size - successes) >= MIN_EXPECTED
        and min(size * pooled, size * (1 - pooled)) >= MIN_EXPECTED
        for size, successes in ((control_size, control_successes), (treatment_size, treatment_successes))
    )


def means_have_enough_data(*, control_size: int, treatment_size: int) -> bool:
    """The one rule for "enough data" in a comparison of two means: MIN_MEAN_ARM per arm."""
    return min(control_size, treatment_size) >= MIN_MEAN_ARM


@dataclass(frozen=True)
class TwoProportionResult:
    control_rate: float
    treatment_rate: float
    lift: float  # treatment rate minus control rate, in absolute terms
    relative_lift: float | None  # lift / control rate; None when the control rate is zero
    ci_low: float
    ci_high: float
    p_value: float  # two-sided
    confidence: float
    # The normal approximation holds only on enough data (proportions_have_enough_data); below
    # that the p-value and interval are not to be trusted (3 users per arm, all converting in one
    # and none in the other, would "prove" anything).
    large_sample: bool = True

    def describe(self) -> str:
        relative = f"{self.relative_lift:+.1%} relative, " if self.relative_lift is not None else ""
        caveat = (
            ""
            if self.large_sample
            else f"; too few observations for this test: each arm needs {MIN_EXPECTED} successes and "
            f"{MIN_EXPECTED} failures, counted and expected"
        )
        return (
            f"lift {self.lift:+.4f} ({relative}{self.confidence:.0%} CI "
            f"{self.ci_low:+.4f} to {self.ci_high:+.4f}, p = {self.p_value:.4f}{caveat})"
        )


def two_proportion_test(
    *,
    control_size: int,
    control_successes: int,
    treatment_size: int,
    treatment_successes: int,
    confidence: float = 0.95,
) -> TwoProportionResult:
    """Difference of two proportions.

    The p-value uses the pooled standard error (the null hypothesis says both arms share one
    rate); the confidence interval uses the unpooled (Wald) standard error around the observed
    difference. Both are the textbook large-sample normal approximations.
    """
    for name, size, successes in (
        ("control", control_size, control_successes),
        ("treatment", treatment_size, treatment_successes),
    ):
        if size <= 0:
            raise ValueError(f"The {name} arm has no observations.")
        if successes < 0 or successes > size:
            raise ValueError(f"The {name} arm has {successes} successes out of {size}.")
    if not 0 < confidence < 1:
        raise ValueError("Confidence must lie strictly between 0 and 1.")

    p_c = control_successes / control_size
    p_t = treatment_successes / treatment_size
    lift = p_t - p_c

    pooled = (control_successes + treatment_successes) / (control_size + treatment_size)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_size + 1 / treatment_size))
    if se_pooled == 0:
        p_value = 1.0  # both arms all-success or all-failure: no evidence of a difference
    else:
        z = abs(lift) / se_pooled
        p_value = min(1.0, 2 * (1 - _STANDARD_NORMAL.cdf(z)))

    se = math.sqrt(p_c * (1 - p_c) / control_size + p_t * (1 - p_t) / treatment_size)
    z_crit = _STANDARD_NORMAL.inv_cdf(1 - (1 - confidence) / 2)
    return TwoProportionResult(
        control_rate=p_c,
        treatment_rate=p_t,
        lift=lift,
        relative_lift=(lift / p_c) if p_c > 0 else None,
        ci_low=lift - z_crit * se,
        ci_high=lift + z_crit * se,
        p_value=p_value,
        confidence=confidence,
        large_sample=proportions_have_enough_data(
            control_size=control_size,
            control_successes=control_successes,
            treatment_size=treatment_size,
            treatment_successes=treatment_successes,
        ),
    )


@dataclass(frozen=True)
class TwoMeansResult:
    """Difference of two means (treatment − control), for time or amount KPIs."""

    control_mean: float
    treatment_mean: float
    lift: float
    relative_lift: float | None
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float
    large_sample: bool = True

    def describe(self) -> str:
        relative = f"{self.relative_lift:+.1%} relative, " if self.relative_lift is not None else ""
        caveat = "" if self.large_sample else f"; too few observations: each arm needs {MIN_MEAN_ARM}"
        return (
            f"difference {self.lift:+.4f} ({relative}{self.confidence:.0%} CI "
            f"{self.ci_low:+.4f} to {self.ci_high:+.4f}, p = {self.p_value:.4f}{caveat})"
        )


def two_means_test(
    *,
    control_size: int,
    control_mean: float,
    control_variance: float,
    treatment_size: int,
    treatment_mean: float,
    treatment_variance: float,
    confidence: float = 0.95,
) -> TwoMeansResult:
    """Welch's large-sample z-test for the difference of two means (unequal variances)."""
    for name, size, mean, variance in (
        ("control", control_size, control_mean, control_variance),
        ("treatment", treatment_size, treatment_mean, treatment_variance),
    ):
        if size <= 1:
            raise ValueError(f"The {name} arm needs at least two observations.")
        if mean is None or variance is None or not math.isfinite(mean) or not math.isfinite(variance):
            raise ValueError(f"The {name} arm needs a finite mean and variance.")
        if variance < 0:
            raise ValueError(f"The {name} arm's variance cannot be negative.")
    if not 0 < confidence < 1:
        raise ValueError("Confidence must lie strictly between 0 and 1.")
    lift = treatment_mean - control_mean
    se = math.sqrt(control_variance / control_size + treatment_variance / treatment_size)
    p_value = 1.0 if se == 0 else min(1.0, 2 * (1 - _STANDARD_NORMAL.cdf(abs(lift) / se)))
    z_crit = _STANDARD_NORMAL.inv_cdf(1 - (1 - confidence) / 2)
    return TwoMeansResult(
        control_mean=control_mean,
        treatment_mean=treatment_mean,
        lift=lift,
        relative_lift=(lift / control_mean) if control_mean else None,
        ci_low=lift - z_crit * se,
        ci_high=lift + z_crit * se,
        p_value=p_value,
        confidence=confidence,
        large_sample=means_have_enough_data(control_size=control_size, treatment_size=treatment_size),
    )
