"""Gate evaluation and review outcomes over plain data (pure, no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from governance.reasons import say
from governance.rules.gates import (
    BusinessCaseFacts,
    ExperimentFacts,
    GateEvaluation,
    GateInputs,
    KPIFacts,
    MeasurementFacts,
    PolicyRules,
    Requirement,
    SignOffFacts,
    evaluate_gate,
    improvement_is_significant,
    required_functions,
    review_outcome,
)
from governance.rules.plans import PlanFacts
from projects.roi import MonthlyAmount
from projects.statistics import TwoProportionResult, two_proportion_test

D = Decimal
FOUR = ("business", "legal", "finance", "technical")
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
SIGNED = NOW - dt.timedelta(days=2)
DIGEST = "a" * 64
OLD_DIGEST = "b" * 64

PILOT = PolicyRules(
    gate="pilot",
    version=1,
    required_functions=FOUR,
    required_evidence=("business_case",),
    personal_data_evidence=("privacy_impact",),
)
SCALE = PolicyRules(
    gate="scale",
    version=2,
    required_functions=FOUR,
    required_evidence=("pilot_report",),
    min_measurements=3,
    requires_targets_met=True,
    requires_significant_experiments=True,
    requires_positive_roi=True,
    requires_conditions_closed=True,
)
RETIRE = PolicyRules(
    gate="retire",
    version=1,
    required_functions=("business", "finance", "technical"),
    risk_ethics_for_high_risk=False,
    requires_business_case=False,
    requires_primary_kpi=False,
    required_evidence=("decommission_plan",),
    personal_data_evidence=("data_deletion",),
    requires_conditions_closed=True,
)


def months(*values: str, start: dt.date = dt.date(2025, 1, 1)) -> tuple[MeasurementFacts, ...]:
    def nth(i: int) -> dt.date:
        index = start.year * 12 + start.month - 1 + i
        return dt.date(index // 12, index % 12 + 1, 1)

    return tuple(MeasurementFacts(nth(i), D(v)) for i, v in enumerate(values))


# A 50/50 plan registered before the data, which the experiments below follow.
EVEN_PLAN = PlanFacts(
    metric="proportion",
    minimum_effect=D("0.02"),
    treatment_share=D("0.5"),
    planned_looks=6,
    traffic_per_month=10_000,
)


def kpi(**overrides) -> KPIFacts:
    fields = dict(
        name="Conversion rate",
        unit="share",
        direction="increase",
        baseline=D("0.10"),
        target=D("0.12"),
        data_source="Web analytics",
        is_primary=True,
        measurements=months("0.11", "0.12", "0.13"),
        experiments=(),
        plan=EVEN_PLAN,
    )
    fields.update(overrides)
    return KPIFacts(**fields)


def signoffs(*functions: str, decision: str = "approve", digest: str = DIGEST, signed_at=SIGNED):
    return tuple(
        SignOffFacts(function=f, decision=decision, reviewer_id=i + 1, signed_at=signed_at, digest=digest)
        for i, f in enumerate(functions)
    )


def signoff(function: str, decision: str = "approve", *, digest: str = DIGEST, signed_at=SIGNED, reviewer=99):
    return SignOffFacts(
        function=function, decision=decision, reviewer_id=reviewer, signed_at=signed_at, digest=digest
    )


def gate_inputs(policy: PolicyRules = PILOT, **overrides) -> GateInputs:
    """Inputs that pass `policy` in full, all required functions approving the current digest."""
    fields = dict(
        policy=policy,
        risk_tier="limited",
        uses_personal_data=False,
        pain_point="Agents spend 40% of their time on repetitive e-mails.",
        process_embedding="Customer-service inbox triage",
        business_case=BusinessCaseFacts(
            budget=D("250000"),
            expected_annual_benefit=D("600000"),
            horizon_months=24,
            exit_criteria="Stop if the KPI misses its target three months running.",
        ),
        kpis=(kpi(),),
        evidence_kinds=frozenset({"business_case", "pilot_report", "decommission_plan"}),
        signoffs=signoffs(*policy.required_functions),
        current_digest=DIGEST,
        open_conditions=(),
        costs=(MonthlyAmount(dt.date(2025, 1, 1), D("10000")),),
        benefits=(MonthlyAmount(dt.date(2025, 1, 1), D("25000")),),
        pilot_started_on=dt.date(2025, 1, 10),
    )
    fields.update(overrides)
    return GateInputs(**fields)


def requirement(evaluation: GateEvaluation, code: str) -> Requirement:
    matches = [r for r in evaluation.requirements if r.code == code]
    assert len(matches) == 1, f"expected exactly one {code!r} requirement, got {evaluation.requirements}"
    return matches[0]


def codes(evaluation: GateEvaluation) -> list[str]:
    return [r.code for r in evaluation.requirements]


# --- the shape of an evaluation ------------------------------------------------------------------


@pytest.mark.parametrize("policy", [PILOT, SCALE, RETIRE], ids=lambda p: p.gate)
def test_complete_inputs_pass_each_default_gate(policy):
    inputs = gate_inputs(policy)

    evaluation = evaluate_gate(inputs, now=NOW)

    assert evaluation.passed, evaluation.failing
    assert evaluation.failing == ()
    assert evaluation.gate == policy.gate
    assert evaluation.policy_version == policy.version
    assert all(say(r.label) and say(r.reason) for r in evaluation.requirements)
    assert review_outcome(inputs, evaluation) == "go"


def test_pilot_gate_lists_its_requirements_in_checklist_order():
    assert codes(evaluate_gate(gate_inputs(PILOT), now=NOW)) == [
        "risk_tier", "business_case", "primary_kpi", "evidence", "pilot_power",
        "signoff:business", "signoff:legal", "signoff:finance", "signoff:technical",
    ]  # fmt: skip


def test_scale_gate_adds_measurement_target_experiment_roi_and_condition_checks():
    assert codes(evaluate_gate(gate_inputs(SCALE), now=NOW)) == [
        "risk_tier", "business_case", "primary_kpi", "evidence", "measurements", "targets_met",
        "experiments", "experiment_plan", "roi", "conditions",
        "signoff:business", "signoff:legal", "signoff:finance", "signoff:technical",
    ]  # fmt: skip


def test_retire_gate_checks_evidence_conditions_and_three_signoffs_only():
    assert codes(evaluate_gate(gate_inputs(RETIRE), now=NOW)) == [
        "evidence", "conditions", "signoff:business", "signoff:finance", "signoff:technical",
    ]  # fmt: skip


def test_one_failing_requirement_fails_the_gate():
    evaluation = evaluate_gate(gate_inputs(PILOT, pain_point=""), now=NOW)

    assert not evaluation.passed
    assert [r.code for r in evaluation.failing] == ["business_case"]


def test_evidence_requirements_passed_ignores_missing_signoffs():
    inputs = gate_inputs(PILOT, signoffs=signoffs("business"))

    evaluation = evaluate_gate(inputs, now=NOW)

    assert not evaluation.passed
    assert evaluation.evidence_requirements_passed()
    assert {r.code for r in evaluation.failing} == {"signoff:legal", "signoff:finance", "signoff:technical"}


def test_evidence_requirements_passed_is_false_when_a_non_signoff_requirement_fails():
    evaluation = evaluate_gate(gate_inputs(PILOT, evidence_kinds=frozenset()), now=NOW)

    assert not evaluation.evidence_requirements_passed()


# --- risk tier -----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [PILOT, SCALE], ids=lambda p: p.gate)
def test_prohibited_risk_tier_never_passes_even_with_every_approval(policy):
    functions = (*FOUR, "risk_ethics")
    inputs = gate_inputs(policy, risk_tier="prohibited", signoffs=signoffs(*functions))

    evaluation = evaluate_gate(inputs, now=NOW)

    risk = requirement(evaluation, "risk_tier")
    assert not risk.passed
    assert "prohibited" in say(risk.reason)
    assert not evaluation.passed
    assert review_outcome(inputs, evaluation) is None


@pytest.mark.parametrize("tier", ["minimal", "limited"])
def test_minimal_and_limited_risk_need_only_the_four_functions(tier):
    evaluation = evaluate_gate(gate_inputs(PILOT, risk_tier=tier), now=NOW)

    assert requirement(evaluation, "risk_tier").passed
    assert tier in say(requirement(evaluation, "risk_tier").reason)
    assert "signoff:risk_ethics" not in codes(evaluation)
    assert evaluation.passed


def test_high_risk_adds_a_risk_and_ethics_signoff():
    inputs = gate_inputs(PILOT, risk_tier="high")

    evaluation = evaluate_gate(inputs, now=NOW)

    assert required_functions(PILOT, "high") == (*FOUR, "risk_ethics")
    assert requirement(evaluation, "risk_tier").passed
    extra = requirement(evaluation, "signoff:risk_ethics")
    assert not extra.passed
    assert say(extra.reason) == "Awaiting the risk & ethics sign-off."
    assert say(extra.label) == "Sign-off: risk & ethics"
    assert review_outcome(inputs, evaluation) is None


def test_high_risk_passes_once_risk_and_ethics_approves():
    inputs = gate_inputs(PILOT, risk_tier="high", signoffs=signoffs(*FOUR, "risk_ethics"))

    evaluation = evaluate_gate(inputs, now=NOW)

    assert evaluation.passed
    assert review_outcome(inputs, evaluation) == "go"


@pytest.mark.parametrize("tier", ["minimal", "limited", "prohibited"])
def test_risk_and_ethics_is_only_added_for_high_risk(tier):
    assert required_functions(PILOT, tier) == FOUR


def test_risk_and_ethics_is_not_listed_twice_when_the_policy_already_requires_it():
    policy = replace(PILOT, required_functions=(*FOUR, "risk_ethics"))

    assert required_functions(policy, "high") == (*FOUR, "risk_ethics")
    assert required_functions(policy, "minimal") == (*FOUR, "risk_ethics")


def test_policy_without_the_high_risk_rule_neither_adds_risk_ethics_nor_checks_the_tier():
    assert required_functions(RETIRE, "high") == ("business", "finance", "technical")
    # A prohibited use must still be retirable.
    inputs = gate_inputs(RETIRE, risk_tier="prohibited")
    evaluation = evaluate_gate(inputs, now=NOW)
    assert "risk_tier" not in codes(evaluation)
    assert evaluation.passed


# --- business case -------------------------------------------------------------------------------


def test_missing_business_case_names_every_missing_part():
    evaluation = evaluate_gate(gate_inputs(PILOT, business_case=None), now=NOW)

    case = requirement(evaluation, "business_case")
    assert not case.passed
    assert say(case.reason) == "Missing: budget, expected annual benefit, exit criteria."


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"pain_point": ""}, "business pain point"),
        ({"pain_point": "   \n"}, "business pain point"),
        ({"process_embedding": ""}, "process it embeds in"),
        ({"business_case": {"budget": D(0)}}, "budget"),
        ({"business_case": {"budget": D("-1")}}, "budget"),
        ({"business_case": {"expected_annual_benefit": D(0)}}, "expected annual benefit"),
        ({"business_case": {"exit_criteria": "  "}}, "exit criteria"),
    ],
)
def test_each_incomplete_part_of_the_business_case_is_named(overrides, missing):
    base = gate_inputs(PILOT)
    if "business_case" in overrides:
        overrides = {"business_case": replace(base.business_case, **overrides["business_case"])}

    evaluation = evaluate_gate(replace(base, **overrides), now=NOW)

    case = requirement(evaluation, "business_case")
    assert not case.passed
    assert say(case.reason) == f"Missing: {missing}."


def test_complete_business_case_passes():
    case = requirement(evaluate_gate(gate_inputs(PILOT), now=NOW), "business_case")

    assert case.passed
    assert say(case.reason).startswith("Pain point, process")


# --- primary KPI ---------------------------------------------------------------------------------


def test_no_kpi_at_all_fails():
    primary = requirement(evaluate_gate(gate_inputs(PILOT, kpis=()), now=NOW), "primary_kpi")

    assert not primary.passed
    assert say(primary.reason) == "No primary KPI is defined."


def test_only_secondary_kpis_fail():
    inputs = gate_inputs(PILOT, kpis=(kpi(is_primary=False),))

    assert not requirement(evaluate_gate(inputs, now=NOW), "primary_kpi").passed


@pytest.mark.parametrize(
    "defect",
    [
        {"baseline": None},
        {"target": None},
        {"target": D("0.10")},  # equal to the baseline
        {"unit": " "},
        {"data_source": ""},
        {"direction": "sideways"},
    ],
)
def test_incomplete_primary_kpi_is_named_and_complete_ones_are_not(defect):
    broken = kpi(name="Average handling time", **defect)
    fine = kpi(name="Conversion rate")

    primary = requirement(evaluate_gate(gate_inputs(PILOT, kpis=(fine, broken)), now=NOW), "primary_kpi")

    assert not primary.passed
    assert "Average handling time" in say(primary.reason)
    assert "Conversion rate" not in say(primary.reason)


def test_incomplete_secondary_kpi_does_not_block_the_gate():
    inputs = gate_inputs(PILOT, kpis=(kpi(), kpi(name="Mood", is_primary=False, unit="", target=None)))

    primary = requirement(evaluate_gate(inputs, now=NOW), "primary_kpi")

    assert primary.passed
    assert say(primary.reason) == "1 primary KPI fully defined."


# --- evidence ------------------------------------------------------------------------------------


def test_missing_evidence_kind_is_named():
    inputs = gate_inputs(SCALE, evidence_kinds=frozenset({"business_case"}))

    evidence = requirement(evaluate_gate(inputs, now=NOW), "evidence")

    assert not evidence.passed
    assert say(evidence.reason) == "Missing evidence: pilot report."


def test_personal_data_requires_the_privacy_impact_assessment():
    inputs = gate_inputs(PILOT, uses_personal_data=True)

    evidence = requirement(evaluate_gate(inputs, now=NOW), "evidence")

    assert not evidence.passed
    assert say(evidence.reason) == "Missing evidence: privacy impact."


def test_personal_data_passes_with_the_privacy_impact_assessment():
    inputs = gate_inputs(
        PILOT, uses_personal_data=True, evidence_kinds=frozenset({"business_case", "privacy_impact"})
    )

    assert requirement(evaluate_gate(inputs, now=NOW), "evidence").passed


def test_every_missing_kind_is_listed():
    inputs = gate_inputs(PILOT, uses_personal_data=True, evidence_kinds=frozenset({"other"}))

    evidence = requirement(evaluate_gate(inputs, now=NOW), "evidence")

    assert say(evidence.reason) == "Missing evidence: business case, privacy impact."


def test_retire_with_personal_data_needs_data_deletion_confirmed():
    inputs = gate_inputs(RETIRE, uses_personal_data=True)

    evidence = requirement(evaluate_gate(inputs, now=NOW), "evidence")

    assert not evidence.passed
    assert "data deletion" in say(evidence.reason)


def test_no_evidence_check_when_nothing_is_required():
    policy = replace(PILOT, required_evidence=())

    assert "evidence" not in codes(evaluate_gate(gate_inputs(policy, evidence_kinds=frozenset()), now=NOW))


# --- measurements during the pilot ---------------------------------------------------------------


def test_too_few_measurements_names_the_kpi_and_its_count():
    inputs = gate_inputs(SCALE, kpis=(kpi(name="Click-through rate", measurements=months("0.11", "0.13")),))

    measured = requirement(evaluate_gate(inputs, now=NOW), "measurements")

    assert not measured.passed
    assert say(measured.reason) == "Too few measurements: Click-through rate has 2."
    assert "3 times" in say(measured.label)


def test_measurements_before_the_pilot_month_do_not_count():
    history = months("0.10", "0.11", "0.12", "0.13", start=dt.date(2024, 11, 1))  # Nov, Dec, Jan, Feb
    inputs = gate_inputs(SCALE, kpis=(kpi(measurements=history),), pilot_started_on=dt.date(2024, 12, 20))

    assert requirement(evaluate_gate(inputs, now=NOW), "measurements").passed  # Dec, Jan, Feb count

    later = replace(inputs, pilot_started_on=dt.date(2025, 1, 5))
    measured = requirement(evaluate_gate(later, now=NOW), "measurements")
    assert not measured.passed
    assert "Conversion rate has 2" in say(measured.reason)


def test_without_a_pilot_start_every_measurement_counts():
    history = months("0.10", "0.11", "0.13", start=dt.date(2020, 1, 1))
    inputs = gate_inputs(SCALE, kpis=(kpi(measurements=history),), pilot_started_on=None)

    assert requirement(evaluate_gate(inputs, now=NOW), "measurements").passed


def test_secondary_kpis_need_no_measurements():
    inputs = gate_inputs(SCALE, kpis=(kpi(), kpi(name="Mood", is_primary=False, measurements=())))

    assert requirement(evaluate_gate(inputs, now=NOW), "measurements").passed


def test_measurement_check_fails_without_a_primary_kpi():
    inputs = gate_inputs(SCALE, kpis=(kpi(is_primary=False),))

    measured = requirement(evaluate_gate(inputs, now=NOW), "measurements")

    assert not measured.passed
    assert say(measured.reason) == "No primary KPI to measure."


# --- targets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "latest", "meets"),
    [
        ("increase", "0.10", "0.12", "0.13", True),
        ("increase", "0.10", "0.12", "0.12", True),  # reaching the target is enough
        ("increase", "0.10", "0.12", "0.119999", False),
        ("decrease", "60", "42", "41", True),
        ("decrease", "60", "42", "42", True),
        ("decrease", "60", "42", "42.5", False),
    ],
)
def test_latest_value_is_compared_with_the_target_in_the_kpi_direction(
    direction, baseline, target, latest, meets
):
    indicator = kpi(
        direction=direction,
        baseline=D(baseline),
        target=D(target),
        measurements=months(baseline, baseline, latest),
    )

    result = requirement(evaluate_gate(gate_inputs(SCALE, kpis=(indicator,)), now=NOW), "targets_met")

    assert result.passed is meets
    assert indicator.meets_target(D(latest)) is meets


def test_only_the_latest_measurement_counts_for_the_target():
    indicator = kpi(measurements=months("0.20", "0.20", "0.11"))

    met = requirement(evaluate_gate(gate_inputs(SCALE, kpis=(indicator,)), now=NOW), "targets_met")

    assert not met.passed
    assert "Conversion rate is 0.11 share (2025-03) against a target of 0.12 share (baseline 0.1)" in say(
        met.reason
    )


def test_kpi_without_measurements_is_named_as_unmeasured():
    met = requirement(
        evaluate_gate(gate_inputs(SCALE, kpis=(kpi(name="NPS", measurements=()),)), now=NOW), "targets_met"
    )

    assert not met.passed
    assert say(met.reason) == "Target missed: NPS has no measurement."


def test_targets_check_fails_without_a_primary_kpi():
    met = requirement(evaluate_gate(gate_inputs(SCALE, kpis=()), now=NOW), "targets_met")

    assert not met.passed
    assert say(met.reason) == "No primary KPI to compare with its target."


def test_every_missing_kpi_is_listed_and_met_ones_are_not():
    kpis = (
        kpi(name="Conversion rate"),
        kpi(
            name="Basket size",
            unit="EUR",
            baseline=D(40),
            target=D(45),
            measurements=months("41", "42", "43"),
        ),
        kpi(
            name="Returns",
            direction="decrease",
            baseline=D(9),
            target=D(7),
            measurements=months("9", "8", "8"),
        ),
    )

    met = requirement(evaluate_gate(gate_inputs(SCALE, kpis=kpis), now=NOW), "targets_met")

    assert not met.passed
    assert "Basket size is 43 EUR" in say(met.reason)
    assert "Returns is 8 share" in say(met.reason)
    assert "Conversion rate" not in say(met.reason)


def test_primary_kpi_without_a_target_fails_the_target_check_instead_of_crashing():
    evaluation = evaluate_gate(gate_inputs(SCALE, kpis=(kpi(target=None),)), now=NOW)

    assert not requirement(evaluation, "primary_kpi").passed
    assert not requirement(evaluation, "targets_met").passed


# --- experiments ---------------------------------------------------------------------------------


def experiment(name="Copy A/B", control=(5_000, 500), treatment=(5_000, 650)) -> ExperimentFacts:
    return ExperimentFacts(name, control[0], control[1], treatment[0], treatment[1])


def test_significant_experiment_passes():
    inputs = gate_inputs(SCALE, kpis=(kpi(experiments=(experiment(),)),))

    result = requirement(evaluate_gate(inputs, now=NOW), "experiments")

    assert result.passed
    assert say(result.reason).startswith(
        "Significant: Copy A/B on Conversion rate: decided by the fixed-horizon test"
    )
    assert "the always-valid test would say significant" in say(result.reason)
    assert "p < 0.05" in say(result.label)


def test_insignificant_experiment_is_named_with_its_kpi_and_statistics():
    flat = experiment(name="Headline test", control=(100_000, 4_000), treatment=(100_000, 4_092))
    inputs = gate_inputs(SCALE, kpis=(kpi(name="Click-through rate", experiments=(experiment(), flat)),))

    result = requirement(evaluate_gate(inputs, now=NOW), "experiments")

    assert not result.passed
    assert say(result.reason).startswith(
        "Not significant: Headline test on Click-through rate: decided by the fixed"
    )
    assert "lift +0.0009" in say(result.reason)
    assert "p = 0.2965" in say(result.reason)
    assert "Copy A/B" not in say(result.reason)


def test_significant_change_in_the_wrong_direction_fails():
    worse = experiment(name="Aggressive copy", control=(5_000, 650), treatment=(5_000, 500))

    result = requirement(
        evaluate_gate(gate_inputs(SCALE, kpis=(kpi(experiments=(worse,)),)), now=NOW), "experiments"
    )

    assert not result.passed
    assert "Aggressive copy" in say(result.reason)


def test_decrease_kpi_needs_the_treatment_rate_significantly_lower():
    lower = experiment(name="Late answers", control=(5_000, 650), treatment=(5_000, 500))
    higher = experiment(name="Late answers", control=(5_000, 500), treatment=(5_000, 650))
    decreasing = dict(
        direction="decrease", baseline=D(60), target=D(42), measurements=months("50", "44", "38")
    )

    good = gate_inputs(SCALE, kpis=(kpi(experiments=(lower,), **decreasing),))
    bad = gate_inputs(SCALE, kpis=(kpi(experiments=(higher,), **decreasing),))

    assert requirement(evaluate_gate(good, now=NOW), "experiments").passed
    assert not requirement(evaluate_gate(bad, now=NOW), "experiments").passed


def test_no_experiment_means_nothing_to_test():
    result = requirement(evaluate_gate(gate_inputs(SCALE), now=NOW), "experiments")

    assert result.passed
    assert "nothing to test" in say(result.reason)


def test_stricter_significance_level_is_applied():
    # p is about 0.02: significant at 5%, not at 1%.
    borderline = experiment(control=(2_000, 200), treatment=(2_000, 245))
    p_value = two_proportion_test(
        control_size=2_000, control_successes=200, treatment_size=2_000, treatment_successes=245
    ).p_value
    assert 0.01 < p_value < 0.05
    inputs = gate_inputs(SCALE, kpis=(kpi(experiments=(borderline,)),))

    assert requirement(evaluate_gate(inputs, now=NOW), "experiments").passed
    strict = replace(inputs, policy=replace(SCALE, significance_level=0.01))
    result = requirement(evaluate_gate(strict, now=NOW), "experiments")
    assert not result.passed
    assert "p < 0.01" in say(result.label)


def make_result(*, lift: float, ci_low: float, ci_high: float, p_value: float) -> TwoProportionResult:
    return TwoProportionResult(
        control_rate=0.1,
        treatment_rate=0.1 + lift,
        lift=lift,
        relative_lift=lift / 0.1,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        confidence=0.95,
    )


@pytest.mark.parametrize(
    ("direction", "lift", "ci_low", "ci_high", "p_value", "significant"),
    [
        ("increase", 0.03, 0.01, 0.05, 0.001, True),
        ("increase", 0.03, 0.01, 0.05, 0.05, False),  # p must be strictly below alpha
        ("increase", 0.03, 0.0, 0.06, 0.01, False),  # lower bound must be strictly above zero
        ("increase", 0.03, -0.001, 0.06, 0.01, False),  # pooled p and Wald interval can disagree
        ("increase", -0.03, -0.05, -0.01, 0.001, False),
        ("decrease", -0.03, -0.05, -0.01, 0.001, True),
        ("decrease", -0.03, -0.05, 0.0, 0.01, False),
        ("decrease", 0.03, 0.01, 0.05, 0.001, False),
    ],
)
def test_improvement_is_significant(direction, lift, ci_low, ci_high, p_value, significant):
    result = make_result(lift=lift, ci_low=ci_low, ci_high=ci_high, p_value=p_value)

    assert improvement_is_significant(result, direction, 0.05) is significant


def test_three_users_per_arm_is_not_a_significant_improvement():
    tiny = two_proportion_test(control_size=3, control_successes=0, treatment_size=3, treatment_successes=3)

    assert not improvement_is_significant(tiny, "increase", 0.05)


# --- ROI -----------------------------------------------------------------------------------------


def test_positive_projected_roi_passes_and_is_described():
    result = requirement(evaluate_gate(gate_inputs(SCALE), now=NOW), "roi")

    assert result.passed
    assert (
        say(result.reason) == "Projected ROI 150.0% over 24 months (cost $240,000.00, benefit $600,000.00)."
    )


def test_no_costs_recorded_fails():
    result = requirement(evaluate_gate(gate_inputs(SCALE, costs=()), now=NOW), "roi")

    assert not result.passed
    assert say(result.reason) == "No costs recorded: ROI cannot be projected."


@pytest.mark.parametrize("benefit", ["10000", "4000", "0"])
def test_break_even_or_loss_fails(benefit):
    inputs = gate_inputs(SCALE, benefits=(MonthlyAmount(dt.date(2025, 1, 1), D(benefit)),))

    result = requirement(evaluate_gate(inputs, now=NOW), "roi")

    assert not result.passed
    assert say(result.reason).startswith("Projected ROI ")


def test_an_exact_break_even_over_a_run_rate_of_thirds_fails():
    """Cost 0, 300, 0, 100 and benefit 200, 200, 100, 0, then run rates of 400/3 and 100: both
    come to exactly 800 over seven months. Zero is not positive."""
    months = [dt.date(2025, m, 1) for m in (1, 2, 3, 4)]
    inputs = gate_inputs(
        SCALE,
        business_case=replace(gate_inputs(SCALE).business_case, horizon_months=7),
        costs=tuple(MonthlyAmount(m, D(a)) for m, a in zip(months, ("0", "300", "0", "100"), strict=True)),
        benefits=tuple(
            MonthlyAmount(m, D(a)) for m, a in zip(months, ("200", "200", "100", "0"), strict=True)
        ),
    )

    result = requirement(evaluate_gate(inputs, now=NOW), "roi")

    assert not result.passed
    assert say(result.reason) == "Projected ROI 0.0% over 7 months (cost $800.00, benefit $800.00)."


def test_roi_horizon_comes_from_the_business_case_or_defaults_to_36_months():
    case = gate_inputs(SCALE).business_case
    short = gate_inputs(SCALE, business_case=replace(case, horizon_months=6))

    assert "over 6 months" in say(requirement(evaluate_gate(short, now=NOW), "roi").reason)
    assert "over 36 months" in say(
        requirement(evaluate_gate(gate_inputs(SCALE, business_case=None), now=NOW), "roi").reason
    )


# --- conditions ----------------------------------------------------------------------------------


def test_open_conditions_are_listed():
    inputs = gate_inputs(SCALE, open_conditions=("Add a human review step", "Log every prompt"))

    result = requirement(evaluate_gate(inputs, now=NOW), "conditions")

    assert not result.passed
    assert say(result.reason) == "Open conditions: Add a human review step; Log every prompt."


# --- sign-offs -----------------------------------------------------------------------------------


def with_signoff(policy: PolicyRules, replacement: SignOffFacts, **overrides) -> GateInputs:
    others = signoffs(*(f for f in policy.required_functions if f != replacement.function))
    return gate_inputs(policy, signoffs=(*others, replacement), **overrides)


def test_missing_signoff_is_awaited():
    inputs = gate_inputs(PILOT, signoffs=signoffs("business", "legal", "technical"))

    result = requirement(evaluate_gate(inputs, now=NOW), "signoff:finance")

    assert not result.passed
    assert say(result.reason) == "Awaiting the finance sign-off."


def test_a_signoff_for_another_function_does_not_count():
    inputs = gate_inputs(
        PILOT, signoffs=(*signoffs("business", "legal", "technical"), signoff("risk_ethics"))
    )

    assert not requirement(evaluate_gate(inputs, now=NOW), "signoff:finance").passed


@pytest.mark.parametrize(
    ("decision", "verb"), [("reject", "rejected"), ("request_changes", "requested changes")]
)
def test_refusals_fail_the_signoff_with_what_the_reviewer_did(decision, verb):
    inputs = with_signoff(PILOT, signoff("legal", decision))

    result = requirement(evaluate_gate(inputs, now=NOW), "signoff:legal")

    assert not result.passed
    assert say(result.reason) == f"The legal reviewer {verb}."


def test_stale_digest_fails_the_signoff():
    inputs = with_signoff(PILOT, signoff("technical", digest=OLD_DIGEST))

    evaluation = evaluate_gate(inputs, now=NOW)

    result = requirement(evaluation, "signoff:technical")
    assert not result.passed
    assert "stale" in say(result.reason)
    assert "technical" in say(result.reason)
    assert review_outcome(inputs, evaluation) is None


def test_expired_signoff_fails_with_its_expiry_date():
    signed_at = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    inputs = with_signoff(PILOT, signoff("finance", signed_at=signed_at))  # validity 90 days

    evaluation = evaluate_gate(inputs, now=signed_at + dt.timedelta(days=90, seconds=1))

    result = requirement(evaluation, "signoff:finance")
    assert not result.passed
    assert "expired" in say(result.reason)
    assert "2025-05-30" in say(result.reason)
    assert review_outcome(inputs, evaluation) is None


def test_signoff_is_valid_up_to_the_end_of_its_validity_period():
    signed_at = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    inputs = with_signoff(PILOT, signoff("finance", signed_at=signed_at))

    assert requirement(evaluate_gate(inputs, now=signed_at + dt.timedelta(days=90)), "signoff:finance").passed


def test_validity_period_comes_from_the_policy():
    signed_at = NOW - dt.timedelta(days=31)
    short = replace(PILOT, signoff_validity_days=30)

    inputs = with_signoff(short, signoff("business", signed_at=signed_at))

    assert "expired" in say(requirement(evaluate_gate(inputs, now=NOW), "signoff:business").reason)


def test_expired_and_stale_reports_the_expiry():
    old = signoff("legal", signed_at=NOW - dt.timedelta(days=365), digest=OLD_DIGEST)

    result = requirement(evaluate_gate(with_signoff(PILOT, old), now=NOW), "signoff:legal")

    assert "expired" in say(result.reason)


def test_approval_with_conditions_counts_as_an_approval():
    inputs = with_signoff(PILOT, signoff("legal", "approve_with_conditions"))

    result = requirement(evaluate_gate(inputs, now=NOW), "signoff:legal")

    assert result.passed
    assert say(result.reason) == "Approved by legal."


# --- review outcome ------------------------------------------------------------------------------


def outcome(inputs: GateInputs) -> str | None:
    return review_outcome(inputs, evaluate_gate(inputs, now=NOW))


def test_all_approvals_and_requirements_make_a_go():
    assert outcome(gate_inputs(SCALE)) == "go"


def test_an_approval_with_conditions_makes_a_conditional_go():
    assert outcome(with_signoff(SCALE, signoff("finance", "approve_with_conditions"))) == "conditional_go"


def test_any_reject_kills_the_review():
    assert outcome(with_signoff(PILOT, signoff("legal", "reject"))) == "kill"


def test_reject_kills_even_before_the_others_have_signed():
    assert outcome(gate_inputs(PILOT, signoffs=(signoff("business", "reject"),))) == "kill"


def test_request_changes_recycles_the_review():
    assert outcome(with_signoff(PILOT, signoff("technical", "request_changes"))) == "recycle"


def test_reject_outweighs_request_changes():
    inputs = gate_inputs(
        PILOT,
        signoffs=(
            *signoffs("business", "finance"),
            signoff("legal", "request_changes"),
            signoff("technical", "reject"),
        ),
    )

    assert outcome(inputs) == "kill"


def test_review_stays_open_until_every_function_signs():
    assert outcome(gate_inputs(PILOT, signoffs=signoffs("business", "legal", "finance"))) is None
    assert outcome(gate_inputs(PILOT, signoffs=())) is None


def test_review_stays_open_when_approved_but_a_requirement_fails():
    assert outcome(gate_inputs(PILOT, evidence_kinds=frozenset())) is None


def test_conditions_on_a_stale_approval_do_not_decide_the_outcome():
    inputs = gate_inputs(
        PILOT,
        signoffs=(
            *signoffs("business", "legal", "technical"),
            signoff("finance", "approve_with_conditions", digest=OLD_DIGEST),
        ),
    )

    assert outcome(inputs) is None


# --- the two cases from the field -----------------------------------------------------------------


def retail_copywriting_inputs() -> GateInputs:
    """The retailer's GenAI copywriting pilot, +2.3% click-through against a +30% target."""
    click_through = KPIFacts(
        name="Click-through rate",
        unit="clicks per view",
        direction="increase",
        baseline=D("0.040"),
        target=D("0.052"),
        data_source="Web analytics",
        is_primary=True,
        measurements=months("0.0402", "0.0405", "0.0409"),
        experiments=(ExperimentFacts("Generated copy A/B", 100_000, 4_000, 100_000, 4_092),),
        plan=EVEN_PLAN,
    )
    return gate_inputs(SCALE, kpis=(click_through,), pilot_started_on=dt.date(2025, 1, 1))


def test_retail_copywriting_pilot_fails_the_scale_gate_on_its_kpi():
    inputs = retail_copywriting_inputs()

    evaluation = evaluate_gate(inputs, now=NOW)

    assert not evaluation.passed
    assert {r.code for r in evaluation.failing} == {"targets_met", "experiments"}
    target = requirement(evaluation, "targets_met")
    assert "Click-through rate" in say(target.reason)
    assert "0.0409" in say(target.reason)
    assert "0.052" in say(target.reason)
    assert "baseline 0.04" in say(target.reason)
    experiments = requirement(evaluation, "experiments")
    assert "Generated copy A/B on Click-through rate" in say(experiments.reason)
    assert "+2.3% relative" in say(experiments.reason)
    # Four approvals cannot carry a gate whose KPI misses its target.
    assert review_outcome(inputs, evaluation) is None


def customer_service_inputs(**overrides) -> GateInputs:
    first_response = KPIFacts(
        name="First response time",
        unit="s",
        direction="decrease",
        baseline=D(60),
        target=D(42),
        data_source="Helpdesk reports",
        is_primary=True,
        measurements=months("50", "44", "38", start=dt.date(2025, 2, 1)),
        experiments=(ExperimentFacts("Tickets answered after 60 s", 5_000, 650, 5_000, 500),),
        plan=EVEN_PLAN,
    )
    fields = dict(
        kpis=(first_response,),
        pilot_started_on=dt.date(2025, 2, 3),
        evidence_kinds=frozenset({"business_case", "pilot_report"}),
        costs=tuple(MonthlyAmount(dt.date(2025, m, 1), D("20000")) for m in (2, 3, 4)),
        benefits=tuple(MonthlyAmount(dt.date(2025, m, 1), D(b)) for m, b in ((3, "20000"), (4, "50000"))),
    )
    fields.update(overrides)
    return gate_inputs(SCALE, **fields)


def test_customer_service_pilot_passes_the_scale_gate_with_four_current_approvals():
    inputs = customer_service_inputs()

    evaluation = evaluate_gate(inputs, now=NOW)

    assert evaluation.passed, evaluation.failing
    assert requirement(evaluation, "targets_met").passed
    assert say(requirement(evaluation, "experiments").reason).startswith(
        "Significant: Tickets answered after 60 s"
    )
    assert requirement(evaluation, "roi").passed
    assert {r.code for r in evaluation.requirements if r.code.startswith("signoff:")} == {
        f"signoff:{f}" for f in FOUR
    }
    assert review_outcome(inputs, evaluation) == "go"


def test_customer_service_pilot_waits_when_one_approval_saw_older_data():
    inputs = customer_service_inputs(
        signoffs=(*signoffs("business", "legal", "technical"), signoff("finance", digest=OLD_DIGEST))
    )

    evaluation = evaluate_gate(inputs, now=NOW)

    assert [r.code for r in evaluation.failing] == ["signoff:finance"]
    assert "stale" in say(evaluation.failing[0].reason)
    assert evaluation.evidence_requirements_passed()
    assert review_outcome(inputs, evaluation) is None


def test_customer_service_pilot_fails_when_latest_response_time_is_above_target():
    inputs = customer_service_inputs()
    slower = replace(inputs.kpis[0], measurements=months("50", "38", "44", start=dt.date(2025, 2, 1)))

    evaluation = evaluate_gate(replace(inputs, kpis=(slower,)), now=NOW)

    target = requirement(evaluation, "targets_met")
    assert not target.passed
    assert "First response time is 44 s (2025-04) against a target of 42 s (baseline 60)" in say(
        target.reason
    )
