"""Build the gate rules' inputs from the database in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch

from governance.canonical import sha256_hex
from governance.models import Condition, Gate, GatePolicy, GateReview, SignOff
from governance.rules.gates import (
    BusinessCaseFacts,
    ExperimentFacts,
    GateEvaluation,
    GateInputs,
    KPIFacts,
    MeasurementFacts,
    PolicyRules,
    SignOffFacts,
    evaluate_gate,
)
from governance.rules.roi import MonthlyAmount
from governance.rules.sequential import MeanLook, ProportionLook
from projects.models import KPI, BusinessCase, EntryKind, Evidence, Initiative


def policy_rules(policy: GatePolicy) -> PolicyRules:
    return PolicyRules(
        gate=policy.gate,
        version=policy.version,
        required_functions=tuple(policy.required_functions),
        risk_ethics_for_high_risk=policy.risk_ethics_for_high_risk,
        requires_business_case=policy.requires_business_case,
        requires_primary_kpi=policy.requires_primary_kpi,
        required_evidence=tuple(policy.required_evidence),
        personal_data_evidence=tuple(policy.personal_data_evidence),
        min_measurements=policy.min_measurements,
        requires_targets_met=policy.requires_targets_met,
        requires_significant_experiments=policy.requires_significant_experiments,
        significance_level=float(policy.significance_level),
        requires_positive_roi=policy.requires_positive_roi,
        requires_conditions_closed=policy.requires_conditions_closed,
        signoff_validity_days=policy.signoff_validity_days,
        experiment_method=policy.experiment_method,
    )


def current_policy(gate: str) -> GatePolicy:
    policy = GatePolicy.objects.filter(gate=gate).order_by("-version").first()
    if policy is None:
        raise GatePolicy.DoesNotExist(f"No policy is defined for the {gate} gate.")
    return policy


def judging_policy(open_review: GateReview | None) -> GatePolicy:
    """The policy an initiative's experiments are judged by, wherever they are shown: the open
    review's pinned one, else the scale gate's current one (the gate where experiments decide)."""
    return open_review.policy if open_review is not None else current_policy(Gate.SCALE)


def kpi_row(kpi: KPI) -> dict:
    """A KPI with its measurements and experiments as plain data, in the order digests use."""
    return {
        "id": kpi.pk,
        "name": kpi.name,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "baseline": kpi.baseline,
        "target": kpi.target,
        "data_source": kpi.data_source,
        "is_primary": kpi.is_primary,
        "measurements": [
            {"period": m.period, "value": m.value, "sample_size": m.sample_size}
            for m in kpi.measurements.all()
        ],
        "experiments": [experiment_row(e, e.looks.all()) for e in kpi.experiments.all()],
    }


SUMMARY_FIELDS = (
    "control_size",
    "control_successes",
    "treatment_size",
    "treatment_successes",
    "control_mean",
    "control_variance",
    "treatment_mean",
    "treatment_variance",
)


def experiment_row(experiment, looks) -> dict:
    """An experiment (model or values dict) and its looks as plain data."""
    get = experiment.get if isinstance(experiment, dict) else lambda f: getattr(experiment, f)
    row = {
        "id": get("id"),
        "name": get("name"),
        "metric": get("metric"),
        "control": [get("control_size"), get("control_successes")],
        "treatment": [get("treatment_size"), get("treatment_successes")],
        "looks": [
            {f: (look[f] if isinstance(look, dict) else getattr(look, f)) for f in SUMMARY_FIELDS}
            for look in looks
        ],
    }
    if row["metric"] == "mean":
        row["means"] = [
            get("control_mean"),
            get("control_variance"),
            get("treatment_mean"),
            get("treatment_variance"),
        ]
    return row


def _look(metric: str, look: dict) -> ProportionLook | MeanLook:
    if metric == "mean":
        return MeanLook(
            look["control_size"],
            float(look["control_mean"]),
            float(look["control_variance"]),
            look["treatment_size"],
            float(look["treatment_mean"]),
            float(look["treatment_variance"]),
        )
    return ProportionLook(
        look["control_size"], look["control_successes"], look["treatment_size"], look["treatment_successes"]
    )


def experiment_facts(row: dict) -> ExperimentFacts:
    means = [float(v) for v in row["means"]] if row.get("means") else [None] * 4
    return ExperimentFacts(
        row["name"],
        *row["control"],
        *row["treatment"],
        looks=tuple(_look(row["metric"], look) for look in row["looks"]),
        metric=row["metric"],
        control_mean=means[0],
        control_variance=means[1],
        treatment_mean=means[2],
        treatment_variance=means[3],
    )


def kpi_definition(kpi: KPI, **data) -> KPIFacts:
    """A KPI's definition as the rules read it; `data` adds its measurements or experiments."""
    return KPIFacts(
        name=kpi.name,
        unit=kpi.unit,
        direction=kpi.direction,
        baseline=kpi.baseline,
        target=kpi.target,
        data_source=kpi.data_source,
        is_primary=kpi.is_primary,
        **data,
    )


def kpi_facts(row: dict) -> KPIFacts:
    return KPIFacts(
        name=row["name"],
        unit=row["unit"],
        direction=row["direction"],
        baseline=row["baseline"],
        target=row["target"],
        data_source=row["data_source"],
        is_primary=row["is_primary"],
        measurements=tuple(MeasurementFacts(m["period"], m["value"]) for m in row["measurements"]),
        experiments=tuple(experiment_facts(e) for e in row["experiments"]),
    )


def snapshot_from(evidence_rows: list[dict], kpi_rows: list[dict]) -> dict:
    """What a signer sees: evidence files by hash, KPI definitions, values and experiment counts.

    Its SHA-256 is the digest a sign-off pins; the ledger rebuilds it for auditors.
    """
    return {
        "evidence": [{"id": e["id"], "kind": e["kind"], "sha256": e["sha256"]} for e in evidence_rows],
        "kpis": [
            {
                "id": k["id"],
                "name": k["name"],
                "direction": k["direction"],
                "baseline": k["baseline"],
                "target": k["target"],
                "measurements": k["measurements"],
                "experiments": [_experiment_snapshot(e) for e in k["experiments"]],
            }
            for k in kpi_rows
        ],
    }


def initiative_with_gate_data(initiative_id: int) -> Initiative:
    """The initiative and everything a gate reads: 6 queries whatever the row counts."""
    return (
        Initiative.objects.select_related("business_case")
        .prefetch_related(
            Prefetch("kpis", queryset=KPI.objects.prefetch_related("measurements", "experiments__looks")),
            Prefetch("evidence", queryset=Evidence.objects.order_by("id")),
            "financial_entries",
        )
        .get(pk=initiative_id)
    )


def _experiment_snapshot(row: dict) -> dict:
    snapshot = {"id": row["id"], "control": row["control"], "treatment": row["treatment"]}
    if row.get("means"):
        snapshot["means"] = row["means"]  # means and variances of a time or amount experiment
    return snapshot


def evidence_snapshot(initiative: Initiative) -> dict:
    """The snapshot of an initiative loaded with initiative_with_gate_data."""
    data = gate_data(initiative)
    return snapshot_from(data.evidence_rows, data.kpi_rows)


def evidence_digest(initiative: Initiative) -> str:
    return gate_data(initiative).digest


@dataclass(frozen=True)
class GateData:
    """Everything a gate reads about one initiative, as plain data."""

    stage: str
    stage_entered_at: dt.datetime
    risk_tier: str
    uses_personal_data: bool
    pain_point: str
    process_embedding: str
    business_case: BusinessCaseFacts | None
    kpi_rows: list[dict]
    evidence_rows: list[dict]
    costs: tuple[MonthlyAmount, ...]
    benefits: tuple[MonthlyAmount, ...]

    @property
    def digest(self) -> str:
        return sha256_hex(snapshot_from(self.evidence_rows, self.kpi_rows))


def business_case_facts(case) -> BusinessCaseFacts | None:
    if case is None:
        return None
    return BusinessCaseFacts(
        budget=case.budget,
        expected_annual_benefit=case.expected_annual_benefit,
        horizon_months=case.horizon_months,
        exit_criteria=case.exit_criteria,
        missed_periods_to_retire=case.missed_periods_to_retire,
    )


def gate_data(initiative: Initiative) -> GateData:
    """GateData of an initiative loaded with initiative_with_gate_data."""
    try:
        case = initiative.business_case
    except BusinessCase.DoesNotExist:
        case = None
    entries = list(initiative.financial_entries.all())
    return GateData(
        stage=initiative.stage,
        stage_entered_at=initiative.stage_entered_at,
        risk_tier=initiative.risk_tier,
        uses_personal_data=initiative.uses_personal_data,
        pain_point=initiative.pain_point,
        process_embedding=initiative.process_embedding,
        business_case=business_case_facts(case),
        kpi_rows=[kpi_row(k) for k in initiative.kpis.all()],
        evidence_rows=[{"id": e.pk, "kind": e.kind, "sha256": e.sha256} for e in initiative.evidence.all()],
        costs=tuple(MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.COST),
        benefits=tuple(MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.BENEFIT),
    )


def inputs_from(
    data: GateData, rules: PolicyRules, signoffs: tuple[SignOffFacts, ...], open_conditions: tuple[str, ...]
) -> GateInputs:
    return GateInputs(
        policy=rules,
        risk_tier=data.risk_tier,
        uses_personal_data=data.uses_personal_data,
        pain_point=data.pain_point,
        process_embedding=data.process_embedding,
        business_case=data.business_case,
        kpis=tuple(kpi_facts(row) for row in data.kpi_rows),
        evidence_kinds=frozenset(e["kind"] for e in data.evidence_rows),
        signoffs=signoffs,
        # The digest only matters against sign-offs' pinned digests; hashing the snapshot is
        # most of an evaluation's cost, so it is skipped when there is nothing to compare.
        current_digest=data.digest if signoffs else "",
        open_conditions=open_conditions if rules.requires_conditions_closed else (),
        costs=data.costs,
        benefits=data.benefits,
        pilot_started_on=data.stage_entered_at.date() if data.stage == "pilot" else None,
    )


def gate_inputs(
    initiative: Initiative,
    policy: GatePolicy | None,
    review: GateReview | None = None,
    *,
    rules: PolicyRules | None = None,
    signoffs: tuple[SignOffFacts, ...] | None = None,
) -> GateInputs:
    """Inputs for `initiative` (loaded with initiative_with_gate_data) at `policy`'s gate.

    `rules` replaces the stored policy for checks that have none, such as submission;
    `signoffs`, the review's active sign-offs when the caller already holds them.
    """
    rules = rules or policy_rules(policy)
    if signoffs is None and review is None:
        signoffs = ()
    if signoffs is None:
        signoffs = tuple(
            signoff_facts(s)
            for s in SignOff.objects.filter(review=review, superseded_at__isnull=True).select_related(
                "function"
            )
        )
    open_conditions = (
        tuple(
            Condition.objects.filter(initiative=initiative, closed_at__isnull=True)
            .order_by("due_on", "id")
            .values_list("text", flat=True)
        )
        if rules.requires_conditions_closed
        else ()
    )
    return inputs_from(gate_data(initiative), rules, signoffs, open_conditions)


def signoff_facts(signoff: SignOff) -> SignOffFacts:
    return SignOffFacts(
        signoff.function.code, signoff.decision, signoff.reviewer_id, signoff.signed_at, signoff.digest
    )


def evaluate_review(
    review: GateReview,
    *,
    now: dt.datetime,
    initiative: Initiative | None = None,
    signoffs: tuple[SignOffFacts, ...] | None = None,
) -> tuple[GateInputs, GateEvaluation]:
    """The review's checklist; `initiative` (loaded with initiative_with_gate_data) and
    `signoffs` spare the queries when the caller already holds them."""
    initiative = initiative or initiative_with_gate_data(review.initiative_id)
    inputs = gate_inputs(initiative, review.policy, review, signoffs=signoffs)
    return inputs, evaluate_gate(inputs, now=now)


def next_gate_checklist(initiative_id: int, *, now: dt.datetime) -> GateEvaluation | None:
    """The checklist of the gate the initiative faces next (its open review's, if any)."""
    initiative = initiative_with_gate_data(initiative_id)
    review = GateReview.objects.select_related("policy").filter(initiative=initiative, status="open").first()
    if review is not None:
        return evaluate_gate(gate_inputs(initiative, review.policy, review), now=now)
    from governance.models import GATES_FROM_STAGE

    gates = GATES_FROM_STAGE.get(initiative.stage)
    if not gates:
        return None
    return evaluate_gate(gate_inputs(initiative, current_policy(gates[0])), now=now)
