"""Guardrail KPIs: non-inferiority against independent references, and its error rate under monthly
looks (governance/rules/guardrails.py)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats import proportion

from governance.rules.gates import ExperimentFacts, KPIFacts, MeasurementFacts
from governance.rules.guardrails import experiment_guardrail, guardrail_check
from projects.sequential import MeanLook, ProportionLook

ALPHA = 0.05


def guardrail(direction: str = "decrease", baseline: str = "20", margin: str = "5", **data) -> KPIFacts:
    return KPIFacts(
        name="Complaints",
        unit="per 1,000 contacts",
        direction=direction,
        baseline=Decimal(baseline),
        target=Decimal(baseline) + (Decimal(-1) if direction == "decrease" else Decimal(1)),
        data_source="crm",
        is_primary=False,
        is_guardrail=True,
        non_inferiority_margin=Decimal(margin),
        **data,
    )


def measured(*values: str) -> tuple[MeasurementFacts, ...]:
    return tuple(MeasurementFacts(dt.date(2026, month, 1), Decimal(v)) for month, v in enumerate(values, 1))


def proportion_experiment(looks) -> ExperimentFacts:
    last = looks[-1]
    return ExperimentFacts(
        "Tone model A/B",
        last.control_size,
        last.control_successes,
        last.treatment_size,
        last.treatment_successes,
        looks=tuple(looks),
    )


# --- without an experiment: the latest measurement against baseline ± margin ------------------------


@pytest.mark.parametrize(
    ("direction", "latest", "holds"),
    [
        ("decrease", "25", True),  # exactly at the margin: not beyond it
        ("decrease", "25.000001", False),
        ("decrease", "12", True),
        ("increase", "15", True),
        ("increase", "14.999999", False),
        ("increase", "30", True),
    ],
)
def test_latest_measurement_against_baseline_and_margin(direction, latest, holds):
    check = guardrail_check(guardrail(direction, measurements=measured("21", latest)))
    assert check.holds is holds
    assert check.reason.code == ("guardrail.measured_holds" if holds else "guardrail.measured_breached")
    assert check.reason.arguments["latest"] == format(Decimal(latest).normalize(), "f")
    assert check.reason.arguments["margin"] == "5"


def test_only_the_latest_measurement_counts():
    assert not guardrail_check(guardrail(measurements=measured("19", "26"))).holds
    assert guardrail_check(guardrail(measurements=measured("26", "19"))).holds


def test_a_guardrail_never_measured_does_not_hold():
    check = guardrail_check(guardrail())
    assert not check.holds and check.reason.code == "guardrail.never_measured"


def test_a_guardrail_without_margin_does_not_hold():
    kpi = replace(guardrail(measurements=measured("20")), non_inferiority_margin=None)
    assert guardrail_check(kpi).reason.code == "guardrail.no_margin"


def test_an_experiment_decides_over_the_measurements():
    # Measured well inside the margin, but the experiment shows the treatment far worse.
    looks = [ProportionLook(20_000, 400, 20_000, 700)]
    kpi = guardrail(measurements=measured("20"), experiments=(proportion_experiment(looks),))
    check = guardrail_check(kpi)
    assert not check.holds
    assert check.reason.code == "guardrail.experiments"
    assert check.experiments[0].worse_by_at_most > check.experiments[0].margin
    # Even the bound on the good side lies beyond the margin: shown breached, not merely unproven.
    assert check.breached and check.experiments[0].worse_by_at_least > check.experiments[0].margin
    assert check.reason.arguments["lines"].items[0].code == "guardrail.experiment_beyond"


def test_the_margin_is_carried_over_as_a_share_of_the_baseline():
    # 5 per 1,000 on a baseline of 20 per 1,000 is a quarter of it: 0.005 on a control rate of 2%.
    check = experiment_guardrail(
        name="e",
        metric="proportion",
        looks=[ProportionLook(10_000, 200, 10_000, 200)],
        direction="decrease",
        baseline=Decimal("20"),
        margin=Decimal("5"),
        alpha=ALPHA,
    )
    assert check.margin == pytest.approx(0.005)
    assert check.kpi_units_per_scale_unit == pytest.approx(1000)


def test_too_few_observations_never_hold():
    kpi = guardrail(experiments=(proportion_experiment([ProportionLook(100, 1, 100, 1)]),))
    check = guardrail_check(kpi)
    assert not check.holds and not check.breached
    assert check.reason.arguments["lines"].items[0].code == "guardrail.experiment_too_few"


# --- against an independent one-sided non-inferiority test at the final look -----------------------


@settings(max_examples=300, deadline=None)
@given(
    n_c=st.integers(500, 50_000),
    n_t=st.integers(500, 50_000),
    p_c=st.floats(0.01, 0.3),
    relative_change=st.floats(-0.3, 0.3),
    relative_margin=st.floats(0.05, 0.5),
    direction=st.sampled_from(["decrease", "increase"]),
)
def test_one_look_is_at_least_as_conservative_as_the_one_sided_z_test(
    n_c, n_t, p_c, relative_change, relative_margin, direction
):
    c = round(n_c * p_c)
    t = min(n_t, round(n_t * p_c * (1 + relative_change)))
    look = ProportionLook(n_c, c, n_t, t)
    baseline = Decimal("20")
    margin = Decimal(str(round(20 * relative_margin, 6)))
    check = experiment_guardrail(
        name="e",
        metric="proportion",
        looks=[look],
        direction=direction,
        baseline=baseline,
        margin=margin,
        alpha=ALPHA,
    )
    scale_margin = check.margin
    # statsmodels' Wald test of the difference, one-sided: H0 the treatment is worse by the margin.
    # treatment − control < margin for a rate that should fall; > −margin for one that should rise.
    value, alternative = (scale_margin, "smaller") if direction == "decrease" else (-scale_margin, "larger")
    reference = proportion.test_proportions_2indep(
        t, n_t, c, n_c, value=value, method="wald", compare="diff", alternative=alternative
    )
    if check.holds:
        assert reference.pvalue < ALPHA
    # The always-valid bound lies beyond the fixed-horizon one-sided bound at the same level.
    difference = t / n_t - c / n_c
    se = math.sqrt((c / n_c) * (1 - c / n_c) / n_c + (t / n_t) * (1 - t / n_t) / n_t)
    fixed_bound = (difference if direction == "decrease" else -difference) + stats.norm.ppf(1 - ALPHA) * se
    if check.result is not None and check.result.enough_data and se > 0:
        assert check.worse_by_at_most >= fixed_bound - 1e-12


def test_a_mean_guardrail_against_the_one_sided_welch_test():
    # Cost per contact: lower is better, margin 0.40 on a baseline of 4.00 (10%).
    look = MeanLook(4000, 4.00, 2.25, 4000, 4.05, 2.25)
    check = experiment_guardrail(
        name="e",
        metric="mean",
        looks=[look],
        direction="decrease",
        baseline=Decimal("4.00"),
        margin=Decimal("0.40"),
        alpha=ALPHA,
    )
    assert check.margin == pytest.approx(0.40)
    # scipy's one-sided Welch test of H0 treatment − control ≥ margin (the treatment shifted by it).
    shifted = stats.ttest_ind_from_stats(
        4.05 - 0.40, math.sqrt(2.25), 4000, 4.00, math.sqrt(2.25), 4000, equal_var=False, alternative="less"
    )
    assert check.holds and shifted.pvalue < ALPHA
    # Worse by more than the margin: neither says it holds.
    breached = experiment_guardrail(
        name="e",
        metric="mean",
        looks=[MeanLook(4000, 4.00, 2.25, 4000, 4.50, 2.25)],
        direction="decrease",
        baseline=Decimal("4.00"),
        margin=Decimal("0.40"),
        alpha=ALPHA,
    )
    reference = stats.ttest_ind_from_stats(
        4.50 - 0.40, math.sqrt(2.25), 4000, 4.00, math.sqrt(2.25), 4000, equal_var=False, alternative="less"
    )
    assert not breached.holds and reference.pvalue >= ALPHA


def test_several_looks_hold_only_where_some_looks_fixed_test_would():
    """The running bound is the smallest of the looks' bounds, each wider than that look's one-sided
    z bound: a guardrail the always-valid test declares holding holds by the z-test at some look."""
    rng = np.random.default_rng(20261202)
    for _ in range(200):
        monthly_c = rng.binomial(3000, 0.02, size=12)
        monthly_t = rng.binomial(3000, 0.02 * rng.uniform(0.8, 1.3), size=12)
        looks = [
            ProportionLook(
                3000 * (k + 1), int(monthly_c[: k + 1].sum()), 3000 * (k + 1), int(monthly_t[: k + 1].sum())
            )
            for k in range(12)
        ]
        check = experiment_guardrail(
            name="e",
            metric="proportion",
            looks=looks,
            direction="decrease",
            baseline=Decimal("20"),
            margin=Decimal("5"),
            alpha=ALPHA,
        )
        if not check.holds:
            continue
        assert any(
            proportion.test_proportions_2indep(
                look.treatment_successes,
                look.treatment_size,
                look.control_successes,
                look.control_size,
                value=check.margin,
                method="wald",
                compare="diff",
                alternative="smaller",
            ).pvalue
            < ALPHA
            for look in looks
        )


# --- the error rate under monthly looks -------------------------------------------------------------

PILOTS, LOOKS = 2000, 12


def simulated_holds(*, control_rate: float, treatment_rate: float, per_arm: int, seed: int):
    """Shares of PILOTS 12-look pilots declared, at some monthly look, holding by the always-valid
    guardrail test, holding by a naive one-sided z-test re-run every month, and shown beyond the
    margin by the always-valid test. Margin: 25% of the baseline."""
    rng = np.random.default_rng(seed)
    control = rng.binomial(per_arm, control_rate, size=(PILOTS, LOOKS)).cumsum(axis=1)
    treatment = rng.binomial(per_arm, treatment_rate, size=(PILOTS, LOOKS)).cumsum(axis=1)
    sizes = per_arm * np.arange(1, LOOKS + 1)
    valid = naive = beyond = 0
    z = stats.norm.ppf(1 - ALPHA)
    for pilot in range(PILOTS):
        looks = [
            ProportionLook(int(sizes[k]), int(control[pilot, k]), int(sizes[k]), int(treatment[pilot, k]))
            for k in range(LOOKS)
        ]
        checks = [
            experiment_guardrail(
                name="sim",
                metric="proportion",
                looks=looks[: k + 1],
                direction="decrease",
                baseline=Decimal("20"),
                margin=Decimal("5"),
                alpha=ALPHA,
            )
            for k in range(LOOKS)
        ]
        valid += any(c.holds for c in checks)
        beyond += any(c.beyond for c in checks)
        p_c, p_t = control[pilot] / sizes, treatment[pilot] / sizes
        se = np.sqrt(p_c * (1 - p_c) / sizes + p_t * (1 - p_t) / sizes)
        naive += bool(np.any(p_t - p_c + z * se < 0.25 * p_c))
    return valid / PILOTS, naive / PILOTS, beyond / PILOTS


def test_a_guardrail_exactly_at_its_margin_holds_in_at_most_alpha_of_pilots():
    # Complaints at 2.0% in control, 2.5% under treatment: worse by exactly the margin (25%).
    valid, naive, beyond = simulated_holds(
        control_rate=0.02, treatment_rate=0.025, per_arm=4000, seed=20261202
    )
    assert valid <= ALPHA
    # Nor is it shown beyond the margin, on the other side, in more than alpha of them.
    assert beyond <= ALPHA
    # The test is not vacuous: re-running the fixed-horizon test every month passes more of them.
    assert naive > valid


def test_a_guardrail_that_does_not_degrade_usually_holds_within_a_year():
    valid, _, beyond = simulated_holds(control_rate=0.02, treatment_rate=0.02, per_arm=4000, seed=20261203)
    assert valid >= 0.5 and beyond == 0


def test_a_guardrail_well_beyond_its_margin_is_shown_breached_and_never_holds():
    # 3.0% against 2.0%: worse by 50% of the baseline, twice the margin.
    valid, _, beyond = simulated_holds(control_rate=0.02, treatment_rate=0.03, per_arm=4000, seed=20261204)
    assert valid == 0 and beyond >= 0.5


# --- the monthly value review -------------------------------------------------------------------


def test_the_value_review_watches_a_guardrail_s_experiment_month_by_month():
    from governance.rules.value import (
        RETIRE,
        DatedLook,
        KPIExperiment,
        ValueInputs,
        assess_value,
        exit_criteria_breaches,
    )

    kpi = guardrail(measurements=measured("20", "20", "20"))
    # Month 1 the treatment looks harmless; by month 3 it is clearly worse than the margin.
    looks = (
        DatedLook(dt.date(2026, 1, 28), ProportionLook(10_000, 200, 10_000, 205)),
        DatedLook(dt.date(2026, 2, 28), ProportionLook(20_000, 400, 20_000, 560)),
        DatedLook(dt.date(2026, 3, 28), ProportionLook(30_000, 600, 30_000, 900)),
    )
    experiments = (KPIExperiment(kpi="Complaints", name="Tone model", metric="proportion", looks=looks),)

    def review(month):
        return assess_value(
            ValueInputs(
                stage="scale",
                month=month,
                measurements_expected_from=None,
                kpis=(kpi,),
                business_case=None,
                experiments=experiments,
            )
        )

    assert review(dt.date(2026, 1, 1)).recommendation != RETIRE
    march = review(dt.date(2026, 3, 1))
    assert march.recommendation == RETIRE
    assert [r.code for r in march.reasons] == ["value.guardrail_breached"]
    [breach] = exit_criteria_breaches((kpi,), None, month=dt.date(2026, 3, 1), experiments=experiments)
    assert breach.guardrail and breach.kpi == "Complaints"
    # The run is keyed by its first breached month, so the breach is one, not one a month.
    assert breach.first_period in (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    assert breach.periods == (dt.date(2026, 3, 1).month - breach.first_period.month + 1)
