"""Build the gate rules' inputs from the database in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Aggregate, OuterRef, Prefetch, Subquery, TextField
from django.db.models.functions import JSONObject
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.access.models import CommitteeFunction
from governance.ledger.canonical import sha256_hex
from governance.reviews.models import Condition, GatePolicy, GateReview, SignOff
from governance.rules.gates import (
    BusinessCaseFacts,
    ExperimentFacts,
    ExperimentVerdict,
    GateEvaluation,
    GateInputs,
    KPIFacts,
    MeasurementFacts,
    PolicyRules,
    SignOffFacts,
    evaluate_gate,
    experiment_verdict,
)
from governance.rules.plans import PlanFacts
from projects.models import (
    KPI,
    KPI_DECIMAL_PLACES,
    KPI_MAX_DIGITS,
    BusinessCase,
    Evidence,
    Experiment,
    ExperimentLook,
    ExperimentPlan,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from projects.roi import MonthlyAmount
from projects.sequential import MeanLook, ProportionLook
from projects.vocabulary import GATES_FROM_STAGE, EntryKind, Gate


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
        refuses_plan_changed_after_data=policy.refuses_plan_changed_after_data,
        requires_measured_from_source=policy.requires_measured_from_source,
        requires_experiment_plan=policy.requires_experiment_plan,
        required_power=float(policy.required_power),
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


# What defines a KPI for the rules: the same fields on the model, in the facts and in KPIFacts.
KPI_DEFINITION = ("name", "unit", "direction", "baseline", "target", "data_source", "is_primary")
# A guardrail's, in the rows and KPIFacts of every KPI; in the facts of guardrails only, so that the
# digests sign-offs pinned on other KPIs stay as they were.
GUARDRAIL_DEFINITION = ("is_guardrail", "non_inferiority_margin")


def measurement_row(period, value, sample_size, reading_id) -> dict:
    """One measurement as the gate facts (and so the sign-offs' digests) read it, whichever reader
    loads it: the ORM, the lean decision's one statement, the whole portfolio's readiness."""
    return {
        "period": period,
        "value": value,
        "sample_size": sample_size,
        "from_source": reading_id is not None,
    }


def kpi_row(kpi: KPI) -> dict:
    """A KPI with its measurements and experiments as plain data (the rows the gate facts take)."""
    return {
        "id": kpi.pk,
        **{field: getattr(kpi, field) for field in (*KPI_DEFINITION, *GUARDRAIL_DEFINITION)},
        "measurements": [
            measurement_row(m.period, m.value, m.sample_size, m.reading_id) for m in kpi.measurements.all()
        ],
        "experiments": [experiment_row(e, e.looks.all()) for e in kpi.experiments.all()],
        "plan": plan_row(_plan_of(kpi)),
    }


def _plan_of(kpi: KPI) -> ExperimentPlan | None:
    try:
        return kpi.plan
    except ExperimentPlan.DoesNotExist:
        return None


# What the gates read of a KPI's experiment plan (its notes are for people, not for the gate).
PLAN_FIELDS = (
    "metric",
    "baseline",
    "minimum_effect",
    "treatment_share",
    "planned_looks",
    "traffic_per_month",
    "standard_deviation",
    "version",
    "changed_after_data",
    "change_reason",
)
_SHARE_PLACES = Decimal("0.0001")


def plan_row(plan) -> dict | None:
    """A KPI's plan (model, values dict or None) as the gate facts pin it, figures as stored."""
    if plan is None:
        return None
    row = {name: _field(plan, name) for name in PLAN_FIELDS}
    row["minimum_effect"] = kpi_decimal(row["minimum_effect"])
    row["treatment_share"] = _decimal(row["treatment_share"]).quantize(_SHARE_PLACES)
    for name in ("baseline", "standard_deviation"):
        if row[name] is not None:
            row[name] = kpi_decimal(row[name])
    row["changed_after_data"] = bool(row["changed_after_data"])
    return row


# The plan's columns as a KPI's `.values()` reads them through the one-to-one join (no query of its
# own): for readers of many KPIs at once, such as the portfolio's readiness.
PLAN_VALUES = tuple(f"plan__{name}" for name in PLAN_FIELDS)


def plan_from_values(row: dict) -> dict | None:
    """The plan of a KPI values row that read PLAN_VALUES (removed from the row), or None."""
    values = {name: row.pop(f"plan__{name}", None) for name in PLAN_FIELDS}
    return None if values["version"] is None else plan_row(values)


def plan_facts(row: dict | None) -> PlanFacts | None:
    return None if row is None else PlanFacts(**row)


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
MEAN_FIELDS = ("control_mean", "control_variance", "treatment_mean", "treatment_variance")
# Figures as their columns keep them: the facts built from the ledger's payloads and from the
# tables must read alike, digit for digit.
_KPI_PLACES = Decimal(1).scaleb(-KPI_DECIMAL_PLACES)
_MONEY_PLACES = Decimal("0.01")


def _field(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def arm_summary(row) -> dict:
    """The summary fields of an experiment or a look (model or values dict), figures as stored."""
    summary = {f: _field(row, f) for f in SUMMARY_FIELDS}
    for name in MEAN_FIELDS:
        if summary[name] is not None:
            summary[name] = kpi_decimal(summary[name])
    return summary


def _decimal(value) -> Decimal:
    # Columns already give Decimals; the ledger's payloads give their text.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def kpi_decimal(value) -> Decimal:
    return _decimal(value).quantize(_KPI_PLACES)


def money(value) -> Decimal:
    return _decimal(value).quantize(_MONEY_PLACES)


def experiment_row(experiment, looks) -> dict:
    """An experiment (model or values dict) and its looks, oldest first, as plain data.

    `summary` is the experiment as it stands (its latest look); an experiment recorded before
    looks were kept has no look and is judged on its summary.
    """
    return {
        "id": _field(experiment, "id"),
        "name": _field(experiment, "name"),
        "metric": _field(experiment, "metric"),
        "summary": arm_summary(experiment),
        "looks": [{"looked_on": _field(look, "looked_on"), **arm_summary(look)} for look in looks],
    }


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
    summary = row["summary"]
    means = [None if summary[f] is None else float(summary[f]) for f in MEAN_FIELDS]
    return ExperimentFacts(
        row["name"],
        summary["control_size"],
        summary["control_successes"],
        summary["treatment_size"],
        summary["treatment_successes"],
        looks=tuple(_look(row["metric"], look) for look in row["looks"]),
        metric=row["metric"],
        control_mean=means[0],
        control_variance=means[1],
        treatment_mean=means[2],
        treatment_variance=means[3],
    )


Judgement = tuple[ExperimentVerdict | None, str]


def judge_experiment(facts: ExperimentFacts, kpi: KPIFacts, rules: PolicyRules) -> Judgement:
    """The verdict `rules` give the experiment over its looks, or none and why (e.g. an arm
    without observations)."""
    try:
        verdict = experiment_verdict(
            facts, kpi, method=rules.experiment_method, alpha=float(rules.significance_level)
        )
    except (ValueError, TypeError, ZeroDivisionError) as error:
        return None, str(error)
    return verdict, ""


def experiment_judgements(experiments, kpi: KPIFacts, rules: PolicyRules) -> dict[int, Judgement]:
    """Each experiment's judgement by its id; their looks prefetched, oldest first."""
    judgements: dict[int, Judgement] = {}
    for experiment in experiments:
        try:
            facts = experiment_facts(experiment_row(experiment, experiment.looks.all()))
        except (ValueError, TypeError) as error:
            judgements[experiment.pk] = (None, str(error))
        else:
            judgements[experiment.pk] = judge_experiment(facts, kpi, rules)
    return judgements


def kpi_definition(kpi: KPI, **data) -> KPIFacts:
    """A KPI's definition as the rules read it; `data` adds its measurements or experiments."""
    return KPIFacts(
        **{field: getattr(kpi, field) for field in (*KPI_DEFINITION, *GUARDRAIL_DEFINITION)}, **data
    )


def kpi_facts(row: dict) -> KPIFacts:
    return KPIFacts(
        **{field: row[field] for field in KPI_DEFINITION},
        is_guardrail=bool(row.get("is_guardrail", False)),
        non_inferiority_margin=row.get("non_inferiority_margin"),
        measurements=tuple(
            MeasurementFacts(m["period"], m["value"], bool(m.get("from_source"))) for m in row["measurements"]
        ),
        experiments=tuple(experiment_facts(e) for e in row["experiments"]),
        plan=plan_facts(row.get("plan")),
    )


def initiative_with_gate_data(initiative_id: int) -> Initiative:
    """The initiative and everything a gate reads: 6 queries whatever the row counts."""
    return (
        Initiative.objects.select_related("business_case")
        .prefetch_related(
            Prefetch(
                "kpis",
                queryset=KPI.objects.select_related("plan").prefetch_related(
                    "measurements", "experiments__looks"
                ),
            ),
            Prefetch("evidence", queryset=Evidence.objects.order_by("id")),
            "financial_entries",
        )
        .get(pk=initiative_id)
    )


@dataclass(frozen=True)
class GateData:
    """Everything a gate reads about one initiative, as plain data, from the tables or the ledger."""

    stage: str
    stage_entered_at: dt.datetime
    risk_tier: str
    uses_personal_data: bool
    pain_point: str
    process_embedding: str
    business_case: BusinessCaseFacts | None
    kpi_rows: list[dict]
    evidence_rows: list[dict]  # {id, kind, sha256}
    entries: list[dict] = field(default_factory=list)  # costs and benefits: {id, kind, month, amount}


@dataclass(frozen=True)
class OpenCondition:
    """A condition of an approval given at an earlier review, not closed yet."""

    id: int
    text: str


def business_case_of(initiative: Initiative) -> BusinessCase | None:
    try:
        return initiative.business_case
    except BusinessCase.DoesNotExist:
        return None


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
    return GateData(
        stage=initiative.stage,
        stage_entered_at=initiative.stage_entered_at,
        risk_tier=initiative.risk_tier,
        uses_personal_data=initiative.uses_personal_data,
        pain_point=initiative.pain_point,
        process_embedding=initiative.process_embedding,
        business_case=business_case_facts(business_case_of(initiative)),
        kpi_rows=[kpi_row(k) for k in initiative.kpis.all()],
        evidence_rows=[{"id": e.pk, "kind": e.kind, "sha256": e.sha256} for e in initiative.evidence.all()],
        entries=[
            {"id": e.pk, "kind": e.kind, "month": e.month, "amount": e.amount}
            for e in initiative.financial_entries.all()
        ],
    )


# The gate facts: what a gate reads, what a sign-off's digest pins --------------------------------

# Sign-offs before version 2 pinned only evidence and KPI data (see governance/audit/signer_view.py).
FACTS_VERSION = 2


def gate_facts(data: GateData, rules: PolicyRules, open_conditions: Sequence[OpenCondition]) -> dict:
    """Every fact the gate evaluation reads, as the plain data a sign-off's digest covers.

    The one place that decides what a gate reads: GateInputs are made from this (inputs_from_facts)
    and its SHA-256 is the digest an approval pins, so a change to any fact the gate reads makes
    earlier approvals stale. The ledger rebuilds the same facts for auditors from the events alone
    (governance/audit/signer_view.py), which is why everything is sorted here by a key both sources
    know rather than taken in query order.
    """
    case = data.business_case
    return {
        "facts": FACTS_VERSION,
        "policy": {"gate": rules.gate, "version": rules.version},
        "initiative": {
            "stage": data.stage,
            "pilot_started_on": data.stage_entered_at.date() if data.stage == "pilot" else None,
            "risk_tier": data.risk_tier,
            "uses_personal_data": data.uses_personal_data,
            "pain_point": data.pain_point,
            "process_embedding": data.process_embedding,
        },
        "business_case": None
        if case is None
        else {
            "budget": money(case.budget),
            "expected_annual_benefit": money(case.expected_annual_benefit),
            "horizon_months": case.horizon_months,
            "exit_criteria": case.exit_criteria,
            "missed_periods_to_retire": case.missed_periods_to_retire,
        },
        "kpis": [
            {
                "id": k["id"],
                "name": k["name"],
                "unit": k["unit"],
                "direction": k["direction"],
                "baseline": kpi_decimal(k["baseline"]),
                "target": kpi_decimal(k["target"]),
                "data_source": k["data_source"],
                "is_primary": k["is_primary"],
                "measurements": sorted(
                    (
                        {
                            "period": m["period"],
                            "value": kpi_decimal(m["value"]),
                            "sample_size": m["sample_size"],
                            # Only a measurement read from its source says so: the digests of
                            # reported ones, pinned before sources existed, stay as they were.
                            **({"from_source": True} if m.get("from_source") else {}),
                        }
                        for m in k["measurements"]
                    ),
                    key=lambda m: m["period"],
                ),
                "experiments": sorted(
                    (
                        {**e, "looks": sorted(e["looks"], key=lambda look: look["looked_on"])}
                        for e in k["experiments"]
                    ),
                    key=lambda e: e["id"],
                ),
                # Only a KPI with a registered plan carries one: the facts of every other KPI,
                # and the digests sign-offs pinned before plans existed, stay as they were.
                **({"plan": plan_row(k["plan"])} if k.get("plan") is not None else {}),
                **(
                    {"is_guardrail": True, "non_inferiority_margin": kpi_decimal(k["non_inferiority_margin"])}
                    if k.get("is_guardrail")
                    else {}
                ),
            }
            for k in sorted(data.kpi_rows, key=lambda k: (not k["is_primary"], k["name"], k["id"]))
        ],
        "evidence": sorted(
            ({"id": e["id"], "kind": e["kind"], "sha256": e["sha256"]} for e in data.evidence_rows),
            key=lambda e: e["id"],
        ),
        "costs_and_benefits": sorted(
            (
                {"id": e["id"], "kind": e["kind"], "month": e["month"], "amount": money(e["amount"])}
                for e in data.entries
            ),
            key=lambda e: e["id"],
        ),
        # Read only by gates that require them closed; elsewhere closing one changes nothing.
        "open_conditions": sorted(
            ({"id": c.id, "text": c.text} for c in open_conditions), key=lambda c: c["id"]
        )
        if rules.requires_conditions_closed
        else [],
    }


def facts_digest(facts: dict) -> str:
    return sha256_hex(facts)


def inputs_from_facts(
    facts: dict, rules: PolicyRules, signoffs: tuple[SignOffFacts, ...], *, digest: str | None = None
) -> GateInputs:
    """The gate rules' inputs, read from the facts alone: the gate sees exactly what is pinned.

    `digest`: the facts' digest when the caller already computed it.
    """
    initiative = facts["initiative"]
    case = facts["business_case"]
    entries = facts["costs_and_benefits"]
    return GateInputs(
        policy=rules,
        risk_tier=initiative["risk_tier"],
        uses_personal_data=initiative["uses_personal_data"],
        pain_point=initiative["pain_point"],
        process_embedding=initiative["process_embedding"],
        business_case=None if case is None else BusinessCaseFacts(**case),
        kpis=tuple(kpi_facts(row) for row in facts["kpis"]),
        evidence_kinds=frozenset(e["kind"] for e in facts["evidence"]),
        signoffs=signoffs,
        # The digest only matters against sign-offs' pinned digests; hashing the facts is most of
        # an evaluation's cost, so it is skipped when there is nothing to compare.
        current_digest=(digest or facts_digest(facts)) if signoffs else "",
        open_conditions=tuple(c["text"] for c in facts["open_conditions"]),
        costs=tuple(MonthlyAmount(e["month"], e["amount"]) for e in entries if e["kind"] == EntryKind.COST),
        benefits=tuple(
            MonthlyAmount(e["month"], e["amount"]) for e in entries if e["kind"] == EntryKind.BENEFIT
        ),
        pilot_started_on=initiative["pilot_started_on"],
    )


def inputs_from(
    data: GateData,
    rules: PolicyRules,
    signoffs: tuple[SignOffFacts, ...],
    open_conditions: Sequence[OpenCondition],
) -> GateInputs:
    return inputs_from_facts(gate_facts(data, rules, open_conditions), rules, signoffs)


def open_conditions_before(
    initiative: Initiative | int, review: GateReview | None
) -> tuple[OpenCondition, ...]:
    """The initiative's open conditions of approvals given before `review` (all of them without one).

    A review's own conditional approvals are conditions for the *next* gate: they neither block
    this review nor change what its other approvals pinned.
    """
    conditions = Condition.objects.filter(initiative=initiative, closed_at__isnull=True)
    if review is not None:
        conditions = conditions.exclude(signoff__review=review)
    return tuple(OpenCondition(pk, text) for pk, text in conditions.order_by("id").values_list("id", "text"))


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
    if rules is None:
        if policy is None:
            raise TypeError("Gate inputs need a policy, or the rules that replace it.")
        rules = policy_rules(policy)
    return inputs_from_facts(review_facts(initiative, rules, review), rules, _signoffs(review, signoffs))


def review_facts(initiative: Initiative, rules: PolicyRules, review: GateReview | None) -> dict:
    """The gate facts of `initiative` (loaded with initiative_with_gate_data) for `review`."""
    conditions = open_conditions_before(initiative, review) if rules.requires_conditions_closed else ()
    return gate_facts(gate_data(initiative), rules, conditions)


def signoff_digest(initiative: Initiative, review: GateReview) -> str:
    """The digest an approval given now pins: the SHA-256 of the review's gate facts."""
    return facts_digest(review_facts(initiative, policy_rules(review.policy), review))


def _signoffs(
    review: GateReview | None, signoffs: tuple[SignOffFacts, ...] | None
) -> tuple[SignOffFacts, ...]:
    if signoffs is not None:
        return signoffs
    if review is None:
        return ()
    return tuple(
        signoff_facts(s)
        for s in SignOff.objects.filter(review=review, superseded_at__isnull=True).select_related("function")
    )


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
    gates = GATES_FROM_STAGE.get(initiative.stage)
    if not gates:
        return None
    return evaluate_gate(gate_inputs(initiative, current_policy(gates[0])), now=now)


# Rows that only change when someone adds one ----------------------------------------------------
#
# Gate policies are never edited (a change is a new version), and committee functions and their
# groups are set up once; the decision path reads them from this process's copy instead of asking
# the database on every sign-off. Saving or deleting any of them drops the copy.

_static: dict[str, dict] = {}


def forget_static_rows(**kwargs) -> None:
    _static.clear()


def policy_by_id(pk: int) -> GatePolicy:
    """The gate policy version `pk` (immutable, so this process keeps it once read)."""
    policies = _static.setdefault("policies", {})
    if pk not in policies:
        policies[pk] = GatePolicy.objects.get(pk=pk)
    return policies[pk]


def committee_functions() -> dict[str, CommitteeFunction]:
    """Every committee function by code, with its group's id."""
    if "functions" not in _static:
        _static["functions"] = {f.code: f for f in CommitteeFunction.objects.all()}
    return _static["functions"]


def committee_function(code: str) -> CommitteeFunction | None:
    """The committee function `code`, read again if this process has not seen it (another
    process may have set it up since)."""
    if code not in committee_functions():
        forget_static_rows()
    return committee_functions().get(code)


def committee_function_code(function_id: int) -> str:
    """The code of committee function `function_id` (read again if this process has not seen it)."""
    for _attempt in (1, 2):
        for code, function in committee_functions().items():
            if function.pk == function_id:
                return code
        forget_static_rows()
    raise CommitteeFunction.DoesNotExist(f"No committee function #{function_id}.")


for _model in (GatePolicy, CommitteeFunction, Group):
    post_save.connect(forget_static_rows, sender=_model, dispatch_uid=f"forget-static-{_model.__name__}")
    post_delete.connect(forget_static_rows, sender=_model, dispatch_uid=f"forget-static-{_model.__name__}-d")


# One statement for everything a decision reads under its locks ------------------------------------


class JSONRows(Aggregate):
    """The grouped rows' JSON objects as one JSON array, as text (NULL when there is no row)."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="%(function)s(%(expressions)s)::text",
            **extra_context,
        )


def _rows_of(queryset, group_by: str, **fields) -> Subquery:
    return Subquery(
        queryset.order_by().values(group_by).annotate(rows=JSONRows(JSONObject(**fields))).values("rows")
    )


_ARM = {name: name for name in SUMMARY_FIELDS}


_CASE_FIELDS = (
    "budget",
    "expected_annual_benefit",
    "horizon_months",
    "exit_criteria",
    "missed_periods_to_retire",
)


def _decision_query(initiative_id: int, review_id: int, *, with_conditions: bool):
    outer = OuterRef("pk")
    reads = {
        "kpi_rows": _rows_of(
            KPI.objects.filter(initiative=outer),
            "initiative",
            id="id",
            name="name",
            unit="unit",
            direction="direction",
            baseline="baseline",
            target="target",
            data_source="data_source",
            is_primary="is_primary",
            is_guardrail="is_guardrail",
            non_inferiority_margin="non_inferiority_margin",
        ),
        "measurement_rows": _rows_of(
            KPIMeasurement.objects.filter(kpi__initiative=outer),
            "kpi__initiative",
            kpi="kpi_id",
            period="period",
            value="value",
            sample_size="sample_size",
            reading="reading_id",
        ),
        "experiment_rows": _rows_of(
            Experiment.objects.filter(kpi__initiative=outer),
            "kpi__initiative",
            id="id",
            kpi="kpi_id",
            name="name",
            metric="metric",
            **_ARM,
        ),
        "look_rows": _rows_of(
            ExperimentLook.objects.filter(experiment__kpi__initiative=outer),
            "experiment__kpi__initiative",
            id="id",
            experiment="experiment_id",
            looked_on="looked_on",
            **_ARM,
        ),
        "plan_rows": _rows_of(
            ExperimentPlan.objects.filter(kpi__initiative=outer),
            "kpi__initiative",
            kpi="kpi_id",
            **{name: name for name in PLAN_FIELDS},
        ),
        "evidence_rows": _rows_of(
            Evidence.objects.filter(initiative=outer), "initiative", id="id", kind="kind", sha256="sha256"
        ),
        "entry_rows": _rows_of(
            FinancialEntry.objects.filter(initiative=outer),
            "initiative",
            id="id",
            kind="kind",
            month="month",
            amount="amount",
        ),
        "signoff_rows": _rows_of(
            SignOff.objects.filter(review=review_id),
            "review",
            id="id",
            function="function_id",
            reviewer="reviewer_id",
            decision="decision",
            signed_at="signed_at",
            digest="digest",
            superseded_at="superseded_at",
        ),
    }
    if with_conditions:
        reads["condition_rows"] = _rows_of(
            Condition.objects.filter(initiative=outer, closed_at__isnull=True).exclude(
                signoff__review=review_id
            ),
            "initiative",
            id="id",
            text="text",
        )
    return (
        Initiative.objects.filter(pk=initiative_id)
        .annotate(**reads)
        .values("business_case__id", *(f"business_case__{f}" for f in _CASE_FIELDS), *reads)
    )


# Building that query through the ORM costs more than running it, and its shape never changes: it
# is compiled once per database and kind of gate, with stand-ins for the two ids.
_INITIATIVE_STAND_IN, _REVIEW_STAND_IN = -7_000_000_001, -7_000_000_002
_compiled: dict[tuple[str, str, bool], tuple[str, tuple]] = {}


def _decision_reads(
    initiative_id: int, review_id: int, rules: PolicyRules, columns: _Columns
) -> dict[str, Any]:
    from django.db import connection

    key = (connection.alias, connection.vendor, rules.requires_conditions_closed)
    if key not in _compiled:
        query = _decision_query(
            _INITIATIVE_STAND_IN, _REVIEW_STAND_IN, with_conditions=rules.requires_conditions_closed
        ).query
        _compiled[key] = query.get_compiler(connection.alias).as_sql()
    sql, params = _compiled[key]
    ids = {_INITIATIVE_STAND_IN: initiative_id, _REVIEW_STAND_IN: review_id}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids.get(p, p) if isinstance(p, int) else p for p in params])
        names = [column[0] for column in cursor.description]
        values = cursor.fetchone()
    if values is None:
        raise Initiative.DoesNotExist(f"No initiative #{initiative_id}.")
    row = dict(zip(names, values, strict=True))
    row["business_case"] = (
        None
        if row["business_case__id"] is None
        else BusinessCaseFacts(
            budget=columns.money(row["business_case__budget"]),
            expected_annual_benefit=columns.money(row["business_case__expected_annual_benefit"]),
            horizon_months=row["business_case__horizon_months"],
            exit_criteria=row["business_case__exit_criteria"],
            missed_periods_to_retire=row["business_case__missed_periods_to_retire"],
        )
    )
    return row


@dataclass(frozen=True)
class SignOffRow:
    """A sign-off of the review as the decision path reads it (superseded ones included)."""

    id: int
    function: str
    reviewer_id: int
    decision: str
    signed_at: dt.datetime
    digest: str
    superseded_at: dt.datetime | None

    @property
    def facts(self) -> SignOffFacts:
        return SignOffFacts(self.function, self.decision, self.reviewer_id, self.signed_at, self.digest)


@dataclass(frozen=True)
class DecisionSnapshot:
    """What a decision on a review reads under the initiative's and the review's locks."""

    data: GateData
    open_conditions: tuple[OpenCondition, ...]
    signoffs: tuple[SignOffRow, ...]

    @property
    def active_signoffs(self) -> tuple[SignOffRow, ...]:
        return tuple(s for s in self.signoffs if s.superseded_at is None)


class _Columns:
    """Values read back from JSON made to match what the ORM gives for the same columns."""

    def __init__(self, vendor: str):
        self.sqlite = vendor == "sqlite"
        # SQLite keeps decimals as floats of 15 significant digits (as Django's converter reads
        # them); PostgreSQL writes a numeric's digits into its JSON as they are.
        self._from_float = decimal.Context(prec=15).create_decimal_from_float

    def load(self, text: str | None) -> list[dict]:
        if text is None:
            return []
        return json.loads(text) if self.sqlite else json.loads(text, parse_float=Decimal)

    def decimal(self, value, places: int, digits: int) -> Decimal | None:
        if value is None:
            return None
        if self.sqlite:
            return self._from_float(value).quantize(
                Decimal(1).scaleb(-places), context=decimal.Context(prec=digits)
            )
        return value if isinstance(value, Decimal) else Decimal(value)

    def money(self, value) -> Decimal:
        """A non-null money column (14 digits, 2 places)."""
        amount = self.decimal(value, 2, 14)
        if amount is None:
            raise ValueError("A money column is never null.")
        return amount

    def kpi_decimal(self, value) -> Decimal | None:
        return self.decimal(value, KPI_DECIMAL_PLACES, KPI_MAX_DIGITS)

    @staticmethod
    def date(value) -> dt.date:
        return dt.date.fromisoformat(value[:10])

    @staticmethod
    def moment(value: str) -> dt.datetime:
        # SQLite keeps naive UTC text; PostgreSQL's JSON writes the offset.
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError(f"Not a date and time: {value!r}")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)

    def moment_or_none(self, value: str | None) -> dt.datetime | None:
        return None if value is None else self.moment(value)

    def plan(self, row: dict) -> dict | None:
        return plan_row(
            {
                **row,
                "minimum_effect": self.kpi_decimal(row["minimum_effect"]),
                "treatment_share": self.decimal(row["treatment_share"], 4, 5),
                "standard_deviation": self.kpi_decimal(row["standard_deviation"]),
                "baseline": self.kpi_decimal(row["baseline"]),
            }
        )

    def arm(self, row: dict) -> dict:
        return {
            **row,
            **{f: self.kpi_decimal(row[f]) for f in MEAN_FIELDS},
        }


def decision_snapshot(initiative: Initiative, review: GateReview, rules: PolicyRules) -> DecisionSnapshot:
    """The gate data of `initiative` and the sign-offs of `review`, in one statement.

    For a caller holding both locks: the statement runs after they were taken, so on PostgreSQL it
    sees every change committed before them (the locked rows' own statements read a snapshot
    taken before they waited). The initiative's own columns come from the locked row.
    """
    from django.db import connection

    columns = _Columns(connection.vendor)
    row = _decision_reads(initiative.pk, review.pk, rules, columns)
    measurements: dict[int, list[dict]] = {}
    for m in sorted(columns.load(row["measurement_rows"]), key=lambda m: (m["kpi"], m["period"])):
        measurements.setdefault(m["kpi"], []).append(
            measurement_row(
                columns.date(m["period"]), columns.kpi_decimal(m["value"]), m["sample_size"], m["reading"]
            )
        )
    looks: dict[int, list[dict]] = {}
    for look in sorted(
        columns.load(row["look_rows"]), key=lambda look: (look["experiment"], look["looked_on"], look["id"])
    ):
        looks.setdefault(look["experiment"], []).append(
            columns.arm({**look, "looked_on": columns.date(look["looked_on"])})
        )
    experiments: dict[int, list[dict]] = {}
    for e in sorted(columns.load(row["experiment_rows"]), key=lambda e: (e["kpi"], e["id"])):
        experiments.setdefault(e["kpi"], []).append(experiment_row(columns.arm(e), looks.get(e["id"], ())))
    plans = {p["kpi"]: columns.plan(p) for p in columns.load(row["plan_rows"])}
    kpi_rows = [
        {
            **k,
            "is_primary": bool(k["is_primary"]),
            "is_guardrail": bool(k["is_guardrail"]),
            "non_inferiority_margin": columns.kpi_decimal(k["non_inferiority_margin"]),
            "baseline": columns.kpi_decimal(k["baseline"]),
            "target": columns.kpi_decimal(k["target"]),
            "measurements": measurements.get(k["id"], []),
            "experiments": experiments.get(k["id"], []),
            "plan": plans.get(k["id"]),
        }
        for k in sorted(
            columns.load(row["kpi_rows"]), key=lambda k: (not k["is_primary"], k["name"], k["id"])
        )
    ]
    data = GateData(
        stage=initiative.stage,
        stage_entered_at=initiative.stage_entered_at,
        risk_tier=initiative.risk_tier,
        uses_personal_data=initiative.uses_personal_data,
        pain_point=initiative.pain_point,
        process_embedding=initiative.process_embedding,
        business_case=row["business_case"],
        kpi_rows=kpi_rows,
        evidence_rows=sorted(columns.load(row["evidence_rows"]), key=lambda e: e["id"]),
        entries=[
            {**e, "month": columns.date(e["month"]), "amount": columns.money(e["amount"])}
            for e in sorted(columns.load(row["entry_rows"]), key=lambda e: e["id"])
        ],
    )
    signoffs = tuple(
        SignOffRow(
            id=s["id"],
            function=committee_function_code(s["function"]),
            reviewer_id=s["reviewer"],
            decision=s["decision"],
            signed_at=columns.moment(s["signed_at"]),
            digest=s["digest"],
            superseded_at=columns.moment_or_none(s["superseded_at"]),
        )
        for s in sorted(columns.load(row["signoff_rows"]), key=lambda s: s["id"])
    )
    conditions = tuple(
        OpenCondition(c["id"], c["text"])
        for c in sorted(columns.load(row.get("condition_rows")), key=lambda c: c["id"])
    )
    return DecisionSnapshot(data=data, open_conditions=conditions, signoffs=signoffs)


def evaluate_locked_review(
    initiative: Initiative, review: GateReview, *, now: dt.datetime
) -> tuple[GateInputs, GateEvaluation]:
    """The checklist of a review whose initiative and review the caller holds locked, from one
    read (decision_snapshot) instead of evaluate_review's several."""
    rules = policy_rules(review.policy)
    seen = decision_snapshot(initiative, review, rules)
    facts = gate_facts(seen.data, rules, seen.open_conditions)
    inputs = inputs_from_facts(facts, rules, tuple(s.facts for s in seen.active_signoffs))
    return inputs, evaluate_gate(inputs, now=now)
