"""Gate readiness of many initiatives at once: the portfolio's "ready for next gate" column.

The initiatives are read and evaluated a chunk at a time (keyset on id), so memory holds one
chunk's measurements, never the portfolio's: 50,000 initiatives take as much as 500. Each chunk
costs the same eleven queries whatever its KPIs, measurements and reviews, reading plain values
(not model instances); the evaluation itself is the same pure gate rule the services use.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from governance.reviews.facts import (
    PLAN_VALUES,
    SUMMARY_FIELDS,
    GateData,
    OpenCondition,
    business_case_facts,
    experiment_row,
    inputs_from,
    measurement_row,
    plan_from_values,
    policy_rules,
)
from governance.reviews.models import Condition, GatePolicy, GateReview, SignOff
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
from projects.vocabulary import GATES_FROM_STAGE, ReviewStatus

# Initiatives read and evaluated at a time. Large enough that the per-chunk queries cost little
# beside the rows (a chunk of a scale portfolio holds ~13,000 measurements), small enough that one
# chunk stays a few megabytes and that its ids fit any database's limit of query parameters.
CHUNK_SIZE = 500

# Per chunk: the initiatives, then business cases, KPIs, measurements, experiments, looks,
# evidence, costs and benefits (the gate data), then open reviews, their sign-offs, conditions.
QUERIES_PER_CHUNK = 11

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


def initiative_chunks(
    initiatives: QuerySet[Initiative], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[list[dict[str, Any]]]:
    """The initiatives' own gate fields, `chunk_size` rows at a time in id order: one query each.

    Keyset on id, so an initiative created meanwhile is read once or not at all, and no chunk costs
    more than the first. Each query reads one row past the chunk: whether another chunk follows is
    known without a last query that finds nothing.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    after: int | None = None
    while True:
        page = initiatives.order_by("pk")
        if after is not None:
            page = page.filter(pk__gt=after)
        rows = list(page.values(*INITIATIVE_FIELDS)[: chunk_size + 1])
        chunk = rows[:chunk_size]
        if chunk:
            yield chunk
        if len(rows) <= chunk_size:
            return
        after = chunk[-1]["id"]


def _kpi_rows(ids: Sequence[int]) -> tuple[dict[int, list[dict]], dict[int, dict]]:
    """Each initiative's KPIs (primary first) and their plans, with room for their measurements
    and experiments."""
    by_initiative: dict[int, list[dict]] = defaultdict(list)
    by_id: dict[int, dict] = {}
    for kpi in (
        KPI.objects.filter(initiative_id__in=ids)
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
            *PLAN_VALUES,  # the KPI's experiment plan, through the one-to-one join: no query of its own
        )
    ):
        row: dict[str, Any] = {**kpi, "measurements": [], "experiments": []}
        row["plan"] = plan_from_values(row)
        by_initiative[row.pop("initiative_id")].append(row)
        by_id[row["id"]] = row
    return by_initiative, by_id


def _add_measurements(ids: Sequence[int], kpis_by_id: dict[int, dict]) -> None:
    for kpi_id, period, value, sample_size, reading_id in (
        KPIMeasurement.objects.filter(kpi__initiative_id__in=ids)
        .order_by("kpi_id", "period")
        .values_list("kpi_id", "period", "value", "sample_size", "reading_id")
    ):
        kpis_by_id[kpi_id]["measurements"].append(measurement_row(period, value, sample_size, reading_id))


def _add_experiments(ids: Sequence[int], kpis_by_id: dict[int, dict]) -> None:
    experiments = list(
        Experiment.objects.filter(kpi__initiative_id__in=ids)
        .order_by("kpi_id", "recorded_at", "id")
        .values("id", "kpi_id", "name", "metric", *SUMMARY_FIELDS)
    )
    looks: dict[int, list[dict]] = defaultdict(list)
    for look in (
        ExperimentLook.objects.filter(experiment__kpi__initiative_id__in=ids)
        .order_by("experiment_id", "looked_on")
        .values("experiment_id", "looked_on", *SUMMARY_FIELDS)
    ):
        looks[look.pop("experiment_id")].append(look)
    for experiment in experiments:
        kpis_by_id[experiment["kpi_id"]]["experiments"].append(
            experiment_row(experiment, looks[experiment["id"]])
        )


def _evidence_rows(ids: Sequence[int]) -> dict[int, list[dict]]:
    evidence: dict[int, list[dict]] = defaultdict(list)
    for item in (
        Evidence.objects.filter(initiative_id__in=ids)
        .order_by("id")
        .values("id", "initiative_id", "kind", "sha256")
    ):
        evidence[item["initiative_id"]].append(_without_initiative(item))
    return evidence


def _entry_rows(ids: Sequence[int]) -> dict[int, list[dict]]:
    entries: dict[int, list[dict]] = defaultdict(list)
    for entry in FinancialEntry.objects.filter(initiative_id__in=ids).values(
        "id", "initiative_id", "kind", "month", "amount"
    ):
        entries[entry["initiative_id"]].append(_without_initiative(entry))
    return entries


def gate_data_of(rows: Sequence[Mapping[str, Any]]) -> dict[int, GateData]:
    """GateData of a chunk of initiatives (rows of INITIATIVE_FIELDS): seven queries."""
    ids = [row["id"] for row in rows]
    cases = {c.initiative_id: c for c in BusinessCase.objects.filter(initiative_id__in=ids)}
    kpis_by_initiative, kpis_by_id = _kpi_rows(ids)
    _add_measurements(ids, kpis_by_id)
    _add_experiments(ids, kpis_by_id)
    evidence = _evidence_rows(ids)
    entries = _entry_rows(ids)
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


@dataclass
class _Policies:
    """Every gate policy version, read once for the whole walk (policies are never edited), and
    the rules of each as they are first needed."""

    by_id: dict[int, GatePolicy]
    current: dict[str, GatePolicy]
    rules: dict[int, PolicyRules] = field(default_factory=dict)

    @classmethod
    def read(cls) -> _Policies:
        policies = list(GatePolicy.objects.order_by("gate", "-version"))
        current: dict[str, GatePolicy] = {}
        for policy in policies:
            current.setdefault(policy.gate, policy)
        return cls(by_id={p.pk: p for p in policies}, current=current)

    def rules_of(self, policy: GatePolicy) -> PolicyRules:
        if policy.pk not in self.rules:
            self.rules[policy.pk] = policy_rules(policy)
        return self.rules[policy.pk]


@dataclass(frozen=True)
class _ReviewFacts:
    """A chunk's open reviews, their current sign-offs, and the open conditions the gate reads."""

    reviews: Mapping[int, Mapping[str, Any]]  # by initiative: {id, initiative_id, policy_id}
    signoffs: dict[int, list[SignOffFacts]]  # by review
    conditions: dict[int, list[OpenCondition]]  # by initiative

    @classmethod
    def read(cls, ids: Sequence[int]) -> _ReviewFacts:
        """Three queries."""
        reviews = {
            r["initiative_id"]: r
            for r in GateReview.objects.filter(initiative_id__in=ids, status=ReviewStatus.OPEN).values(
                "id", "initiative_id", "policy_id"
            )
        }
        signoffs: dict[int, list[SignOffFacts]] = defaultdict(list)
        for review_id, code, decision, reviewer_id, signed_at, digest in SignOff.objects.filter(
            review__initiative_id__in=ids, review__status=ReviewStatus.OPEN, superseded_at__isnull=True
        ).values_list("review_id", "function__code", "decision", "reviewer_id", "signed_at", "digest"):
            signoffs[review_id].append(SignOffFacts(code, decision, reviewer_id, signed_at, digest))
        # Conditions of approvals given before each initiative's open review (all, without one).
        conditions: dict[int, list[OpenCondition]] = defaultdict(list)
        for initiative_id, pk, text, review_id in (
            Condition.objects.filter(initiative_id__in=ids, closed_at__isnull=True)
            .order_by("id")
            .values_list("initiative_id", "id", "text", "signoff__review_id")
        ):
            review = reviews.get(initiative_id)
            if review is None or review["id"] != review_id:
                conditions[initiative_id].append(OpenCondition(pk, text))
        return cls(reviews=reviews, signoffs=signoffs, conditions=conditions)


def _evaluate_chunk(
    rows: Sequence[Mapping[str, Any]], policies: _Policies, *, now: dt.datetime
) -> Iterator[tuple[int, GateEvaluation]]:
    data = gate_data_of(rows)
    facts = _ReviewFacts.read(list(data))
    for initiative_id, gate_data in data.items():
        review = facts.reviews.get(initiative_id)
        if review is not None:
            policy = policies.by_id[review["policy_id"]]
        else:
            policy = policies.current[GATES_FROM_STAGE[gate_data.stage][0]]
        inputs = inputs_from(
            gate_data,
            policies.rules_of(policy),
            tuple(facts.signoffs[review["id"]]) if review else (),
            tuple(facts.conditions[initiative_id]),
        )
        yield initiative_id, evaluate_gate(inputs, now=now)


def facing_a_gate(initiatives: QuerySet[Initiative] | None = None) -> QuerySet[Initiative]:
    """Those of `initiatives` (default: the whole portfolio) whose stage leads to a gate."""
    base = initiatives if initiatives is not None else Initiative.objects.all()
    return base.filter(stage__in=list(GATES_FROM_STAGE))


def iter_next_gate_readiness(
    initiatives: QuerySet[Initiative] | None = None,
    *,
    now: dt.datetime,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[tuple[int, GateEvaluation]]:
    """(initiative id, next gate's evaluation) for each initiative that faces a gate, in id
    order, under its open review's policy if it has one, else the gate's current policy.

    Streams: QUERIES_PER_CHUNK for each chunk of `chunk_size` initiatives, read as the caller
    consumes them, and one for the policies; memory holds one chunk.
    """
    chunks = initiative_chunks(facing_a_gate(initiatives), chunk_size=chunk_size)
    policies: _Policies | None = None
    for rows in chunks:
        if policies is None:  # read with the first chunk: an empty portfolio costs one query
            policies = _Policies.read()
        yield from _evaluate_chunk(rows, policies, now=now)


def next_gate_readiness(
    initiatives: QuerySet[Initiative] | None = None,
    *,
    now: dt.datetime,
    chunk_size: int = CHUNK_SIZE,
) -> dict[int, GateEvaluation]:
    """iter_next_gate_readiness as a mapping, for a bounded set of initiatives (a page of
    reviews); walking the whole portfolio, iterate instead, so as not to hold every evaluation."""
    return dict(iter_next_gate_readiness(initiatives, now=now, chunk_size=chunk_size))
