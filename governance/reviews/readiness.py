"""Gate readiness of many initiatives at once: the portfolio's "ready for next gate" column.

A fixed number of queries whatever the number of initiatives, KPIs and measurements, reading
plain values (not model instances) so that 10,000 initiatives fit in memory comfortably; the
evaluation itself is the same pure gate rule the services use.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from governance.models import Condition, GatePolicy, GateReview, ReviewStatus, SignOff
from governance.reviews.facts import (
    SUMMARY_FIELDS,
    GateData,
    OpenCondition,
    business_case_facts,
    experiment_row,
    inputs_from,
    policy_rules,
)
from governance.rules.gates import GateEvaluation, PolicyRules, SignOffFacts, evaluate_gate
from projects.models import (
    KPI,
    BusinessCase,
    Evidence,
    Experiment,
    ExperimentLook,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from projects.vocabulary import GATES_FROM_STAGE

INITIATIVE_FIELDS = (
    "id",
    "stage",
    "stage_entered_at",
    "risk_tier",
    "uses_personal_data",
    "pain_point",
    "process_embedding",
)


def _without_initiative(row: Mapping[str, object]) -> dict[str, object]:
    """A row of an initiative's own list, without the initiative's id it was grouped by."""
    return {key: value for key, value in row.items() if key != "initiative_id"}


def _gate_data(initiatives: QuerySet[Initiative]) -> dict[int, GateData]:
    rows = list(initiatives.values(*INITIATIVE_FIELDS))
    cases = {c.initiative_id: c for c in BusinessCase.objects.filter(initiative__in=initiatives)}
    kpis_by_initiative: dict[int, list[dict]] = defaultdict(list)
    kpis_by_id: dict[int, dict] = {}
    for kpi in (
        KPI.objects.filter(initiative__in=initiatives)
        .order_by("initiative_id", "-is_primary", "name")
        .values(
            "id",
            "initiative_id",
            "name",
            "unit",
            "direction",
            "baseline",
            "target",
            "data_source",
            "is_primary",
        )
    ):
        row: dict[str, Any] = {**kpi, "measurements": [], "experiments": []}
        kpis_by_initiative[row.pop("initiative_id")].append(row)
        kpis_by_id[row["id"]] = row
    for kpi_id, period, value, sample_size in (
        KPIMeasurement.objects.filter(kpi__initiative__in=initiatives)
        .order_by("kpi_id", "period")
        .values_list("kpi_id", "period", "value", "sample_size")
    ):
        kpis_by_id[kpi_id]["measurements"].append(
            {"period": period, "value": value, "sample_size": sample_size}
        )
    experiments = list(
        Experiment.objects.filter(kpi__initiative__in=initiatives)
        .order_by("kpi_id", "recorded_at", "id")
        .values("id", "kpi_id", "name", "metric", *SUMMARY_FIELDS)
    )
    looks: dict[int, list[dict]] = defaultdict(list)
    for look in (
        ExperimentLook.objects.filter(experiment__kpi__initiative__in=initiatives)
        .order_by("experiment_id", "looked_on")
        .values("experiment_id", "looked_on", *SUMMARY_FIELDS)
    ):
        looks[look.pop("experiment_id")].append(look)
    for experiment in experiments:
        kpis_by_id[experiment["kpi_id"]]["experiments"].append(
            experiment_row(experiment, looks[experiment["id"]])
        )
    evidence: dict[int, list[dict]] = defaultdict(list)
    for item in (
        Evidence.objects.filter(initiative__in=initiatives)
        .order_by("id")
        .values("id", "initiative_id", "kind", "sha256")
    ):
        evidence[item["initiative_id"]].append(_without_initiative(item))
    entries: dict[int, list[dict]] = defaultdict(list)
    for entry in FinancialEntry.objects.filter(initiative__in=initiatives).values(
        "id", "initiative_id", "kind", "month", "amount"
    ):
        entries[entry["initiative_id"]].append(_without_initiative(entry))
    return {
        row["id"]: GateData(
            stage=row["stage"],
            stage_entered_at=row["stage_entered_at"],
            risk_tier=row["risk_tier"],
            uses_personal_data=row["uses_personal_data"],
            pain_point=row["pain_point"],
            process_embedding=row["process_embedding"],
            business_case=business_case_facts(cases.get(row["id"])),
            kpi_rows=kpis_by_initiative[row["id"]],
            evidence_rows=evidence[row["id"]],
            entries=entries[row["id"]],
        )
        for row in rows
    }


def next_gate_readiness(
    initiatives: QuerySet[Initiative] | None = None, *, now: dt.datetime
) -> dict[int, GateEvaluation]:
    """The next gate's evaluation for each initiative that faces one (its open review's, if any).

    Twelve queries whatever the portfolio's size.
    """
    initiatives = (initiatives if initiatives is not None else Initiative.objects.all()).filter(
        stage__in=list(GATES_FROM_STAGE)
    )
    data = _gate_data(initiatives)
    policies = list(GatePolicy.objects.order_by("gate", "-version"))
    by_id = {p.pk: p for p in policies}
    current: dict[str, GatePolicy] = {}
    for policy in policies:
        current.setdefault(policy.gate, policy)
    reviews = {
        r["initiative_id"]: r
        for r in GateReview.objects.filter(initiative__in=initiatives, status=ReviewStatus.OPEN).values(
            "id", "initiative_id", "policy_id"
        )
    }
    signoffs: dict[int, list[SignOffFacts]] = defaultdict(list)
    for review_id, code, decision, reviewer_id, signed_at, digest in SignOff.objects.filter(
        review__initiative__in=initiatives, review__status=ReviewStatus.OPEN, superseded_at__isnull=True
    ).values_list("review_id", "function__code", "decision", "reviewer_id", "signed_at", "digest"):
        signoffs[review_id].append(SignOffFacts(code, decision, reviewer_id, signed_at, digest))
    # Conditions of approvals given before each initiative's open review (all, without one).
    conditions: dict[int, list[OpenCondition]] = defaultdict(list)
    for initiative_id, pk, text, review_id in (
        Condition.objects.filter(initiative__in=initiatives, closed_at__isnull=True)
        .order_by("id")
        .values_list("initiative_id", "id", "text", "signoff__review_id")
    ):
        review = reviews.get(initiative_id)
        if review is None or review["id"] != review_id:
            conditions[initiative_id].append(OpenCondition(pk, text))
    rules_cache: dict[int, PolicyRules] = {}
    results = {}
    for initiative_id, gate_data in data.items():
        review = reviews.get(initiative_id)
        policy = by_id[review["policy_id"]] if review else current[GATES_FROM_STAGE[gate_data.stage][0]]
        rules = rules_cache.get(policy.pk) or rules_cache.setdefault(policy.pk, policy_rules(policy))
        inputs = inputs_from(
            gate_data,
            rules,
            tuple(signoffs[review["id"]]) if review else (),
            tuple(conditions[initiative_id]),
        )
        results[initiative_id] = evaluate_gate(inputs, now=now)
    return results
