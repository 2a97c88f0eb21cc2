"""The gate's experiment verdict: which method decided, both intervals side by side."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple
from decimal import Decimal

import pytest

from governance.reasons import say
from governance.rules.gates import (
    ExperimentFacts,
    GateInputs,
    KPIFacts,
    PolicyRules,
    evaluate_gate,
    experiment_verdict,
)
from governance.rules.plans import PlanFacts
from projects.sequential import ProportionLook
from projects.statistics import two_means_test

NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
CTR = KPIFacts(
    name="Click-through rate",
    unit="ratio",
    direction="increase",
    baseline=Decimal("0.040"),
    target=Decimal("0.052"),
    data_source="Analytics",
    is_primary=True,
)
# 4.0% against 4.6% over 10,000 visitors per arm: p = 0.037 for one planned look, but weak
# evidence for a committee that has been looking every month.
BORDERLINE = ExperimentFacts("Headline test", 10_000, 400, 10_000, 460)


def inputs(method: str, experiment: ExperimentFacts, kpi: KPIFacts = CTR) -> GateInputs:
    # Registered 50/50 before the data, as the experiments below are split.
    plan = PlanFacts(
        metric=experiment.metric,
        minimum_effect=Decimal("0.01"),
        treatment_share=Decimal("0.5"),
        planned_looks=6,
        traffic_per_month=10_000,
        standard_deviation=Decimal("20") if experiment.metric == "mean" else None,
    )
    kpi = KPIFacts(**{**kpi.__dict__, "experiments": (experiment,), "plan": plan})
    return GateInputs(
        policy=PolicyRules(
            gate="scale",
            version=1,
            required_functions=(),
            requires_business_case=False,
            requires_primary_kpi=False,
            requires_significant_experiments=True,
            risk_ethics_for_high_risk=False,
            experiment_method=method,
        ),
        risk_tier="limited",
        uses_personal_data=False,
        pain_point="p",
        process_embedding="e",
        business_case=None,
        kpis=(kpi,),
        evidence_kinds=frozenset(),
        signoffs=(),
        current_digest="",
    )


def test_a_borderline_result_passes_a_fixed_horizon_gate_but_not_an_always_valid_one():
    fixed = evaluate_gate(inputs("fixed_horizon", BORDERLINE), now=NOW)
    valid = evaluate_gate(inputs("always_valid", BORDERLINE), now=NOW)
    assert fixed.passed and not valid.passed
    reason = say(valid.failing[0].reason)
    assert "decided by the always-valid test" in reason
    assert "fixed-horizon test, valid for a single planned look only: significant" in reason
    assert "always-valid 95% interval" in reason and "95% CI" in reason
    assert "always-valid test" in say(valid.failing[0].label)


def test_every_look_counts_in_the_always_valid_verdict():
    looks = tuple(ProportionLook(2_000 * k, 80 * k, 2_000 * k, 104 * k) for k in range(1, 7))
    experiment = ExperimentFacts("Copy test", *looks[-1].__dict__.values(), looks=looks)
    verdict = experiment_verdict(experiment, CTR, method="always_valid")
    assert verdict.always_valid.looks == 6
    assert verdict.significant and verdict.always_valid.first_significant_look is not None
    assert verdict.always_valid.cs_low < verdict.fixed.ci_low


def test_a_time_kpi_experiment_uses_means_and_variances():
    frt = KPIFacts(
        name="First response time",
        unit="minutes",
        direction="decrease",
        baseline=Decimal("60"),
        target=Decimal("42"),
        data_source="Zendesk",
        is_primary=True,
    )
    experiment = ExperimentFacts(
        "Reply drafts",
        1_200,
        0,
        1_200,
        0,
        metric="mean",
        control_mean=58.0,
        control_variance=400.0,
        treatment_mean=40.0,
        treatment_variance=380.0,
    )
    verdict = experiment_verdict(experiment, frt, method="always_valid")
    assert verdict.significant
    assert verdict.fixed.lift == pytest.approx(-18.0)
    assert verdict.always_valid.cs_high < 0
    assert evaluate_gate(inputs("always_valid", experiment, frt), now=NOW).passed


def test_welch_z_test_agrees_with_a_hand_computation():
    # Δ = 5, SE = sqrt(100/50 + 144/60) = sqrt(4.4) = 2.0976; z = 2.3837; two-sided p = 0.01714.
    result = two_means_test(
        control_size=50,
        control_mean=20,
        control_variance=100,
        treatment_size=60,
        treatment_mean=25,
        treatment_variance=144,
    )
    assert result.lift == 5
    assert result.p_value == pytest.approx(0.01714, abs=1e-4)
    assert result.ci_low == pytest.approx(5 - 1.959964 * 2.0976, abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"control_size": 1}, "at least two"),
        ({"control_variance": -1.0}, "negative"),
        ({"treatment_mean": float("inf")}, "finite"),
    ],
)
def test_bad_mean_summaries_are_refused(kwargs, message):
    arguments = dict(
        control_size=50,
        control_mean=20.0,
        control_variance=100.0,
        treatment_size=60,
        treatment_mean=25.0,
        treatment_variance=144.0,
    )
    with pytest.raises(ValueError, match=message):
        two_means_test(**{**arguments, **kwargs})


def test_the_fixed_horizon_interval_is_at_the_policy_s_level_so_it_agrees_with_the_decision():
    # p = 0.037: significant at 5%, not at 1%. At 5% the 95% interval excludes zero; at 1% the
    # interval shown is the 99% one, and it includes zero, as the decision says.
    at_five = experiment_verdict(BORDERLINE, CTR, method="fixed_horizon", alpha=0.05)
    at_one = experiment_verdict(BORDERLINE, CTR, method="fixed_horizon", alpha=0.01)
    assert at_five.fixed.confidence == pytest.approx(0.95) and at_five.fixed.ci_low > 0
    assert at_five.significant
    assert at_one.fixed.confidence == pytest.approx(0.99) and at_one.fixed.ci_low < 0 < at_one.fixed.ci_high
    assert not at_one.significant
    assert at_one.fixed.p_value == pytest.approx(at_five.fixed.p_value)
    assert "99% CI" in say(at_one.describe())


def test_a_thin_first_look_in_a_small_holdout_does_not_turn_a_later_look_into_a_go():
    # 2% control: 0 conversions among its first 60 visitors, against 4.0% of 3,000 treated ones;
    # over the next months both arms convert at 4%. Only the thin look made the difference.
    looks = (
        ProportionLook(60, 0, 3_000, 120),
        ProportionLook(260, 10, 13_000, 520),
        ProportionLook(460, 18, 23_000, 921),
    )
    experiment = ExperimentFacts("Holdout", *astuple(looks[-1]), looks=looks)
    verdict = experiment_verdict(experiment, CTR, method="always_valid")
    assert not verdict.significant
    assert verdict.always_valid.cs_low < 0 < verdict.always_valid.cs_high
    requirement = evaluate_gate(inputs("always_valid", experiment), now=NOW).failing[0]
    assert "after 3 looks, 1 of them too thin to count" in say(requirement.reason)


def test_looks_that_contradict_each_other_are_inconclusive_at_the_gate_never_a_go():
    # 5.0% against 3.0% at the first look, then 4.0% against 4.4% over twenty times the traffic.
    looks = (ProportionLook(5_000, 250, 5_000, 150), ProportionLook(100_000, 4_000, 100_000, 4_400))
    experiment = ExperimentFacts("Copy test", *astuple(looks[-1]), looks=looks)
    verdict = experiment_verdict(experiment, CTR, method="always_valid")
    assert not verdict.significant and verdict.inconclusive
    gate = evaluate_gate(inputs("always_valid", experiment), now=NOW)
    assert not gate.passed
    assert (
        "decided by the always-valid test, which stays valid however often the committee looks: "
        "inconclusive (the looks contradict each other after 2 looks" in say(gate.failing[0].reason)
    )


WAITING = KPIFacts(
    name="Tickets waiting over 30 minutes",
    unit="ratio",
    direction="decrease",
    baseline=Decimal("0.63"),
    target=Decimal("0.44"),
    data_source="Zendesk",
    is_primary=True,
)


@pytest.mark.parametrize("method", ["fixed_horizon", "always_valid"])
def test_the_checklist_words_the_interval_by_the_kpi_s_direction(method):
    # 63% of tickets wait over 30 minutes without the drafts, 47% with them: lower is better.
    experiment = ExperimentFacts("Reply drafts", 1_500, 945, 1_500, 705)
    requirement = evaluate_gate(inputs(method, experiment, WAITING), now=NOW).requirements[0]
    assert requirement.passed
    assert say(requirement.label).endswith("interval below zero)")
    assert "above zero" not in say(requirement.label) + say(requirement.reason)
    assert "the KPI should decrease, so an improvement is an interval below zero" in say(requirement.reason)
    assert "above zero" in say(evaluate_gate(inputs(method, BORDERLINE), now=NOW).requirements[0].label)


def test_a_checklist_over_kpis_of_both_directions_names_both_sides():
    both = inputs("always_valid", BORDERLINE)
    waiting = KPIFacts(
        **{**WAITING.__dict__, "experiments": (ExperimentFacts("Drafts", 1_500, 945, 1_500, 705),)}
    )
    mixed = GateInputs(**{**both.__dict__, "kpis": (*both.kpis, waiting)})
    label = say(evaluate_gate(mixed, now=NOW).requirements[0].label)
    assert "above zero for a KPI that should increase, below zero for one that should decrease" in label


def test_a_control_arm_without_a_single_success_is_not_a_significant_fixed_horizon_result():
    # 0 of 100 against 10 of 100: the pooled rate (5%) expects five successes per arm, but the
    # control's own rate is zero, so its Wald interval has no width to speak of.
    no_success = ExperimentFacts("Small test", 100, 0, 100, 10)
    verdict = experiment_verdict(no_success, CTR, method="fixed_horizon")
    assert not verdict.fixed.large_sample and not verdict.significant
    assert "too few observations for this test" in say(verdict.describe())
