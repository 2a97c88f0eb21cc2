"""The initiative page, and gate checklists of many initiatives, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.ledger.models import LedgerEvent
from governance.reasons import say_stored
from governance.reviews.facts import (
    OpenCondition,
    current_policy,
    gate_data,
    inputs_from,
    judge_experiment,
    judging_policy,
    kpi_facts,
    kpi_row,
    policy_rules,
    signoff_facts,
)
from governance.reviews.models import Condition, GatePolicy, GateReview, SignOff
from governance.reviews.readiness import next_gate_readiness
from governance.rules.gates import (
    SUBMISSION_RULES,
    ExperimentVerdict,
    GateEvaluation,
    KPIFacts,
    PolicyRules,
    SignOffFacts,
    evaluate_gate,
)
from projects.models import KPI, BusinessCase, Evidence, Experiment, Initiative, KPIMeasurement, KPISource
from projects.roi import MonthlyAmount, RoiProjection, percent, project_roi, rounded
from projects.vocabulary import GATES_FROM_STAGE, EntryKind, ExperimentMethod, ReviewStatus, Stage

LEDGER_EVENTS_SHOWN = 50


def _gate_prefetches(evidence: QuerySet[Evidence]) -> list:
    """The relations a gate reads, in the order the sign-off digest reads them
    (as governance.reviews.facts.initiative_with_gate_data)."""
    return [
        Prefetch(
            "kpis",
            queryset=KPI.objects.select_related("plan", "source").prefetch_related(
                "measurements", "experiments__looks"
            ),
        ),
        Prefetch("evidence", queryset=evidence.order_by("id")),
        "financial_entries",
    ]


def evaluate_with(
    initiative: Initiative,
    rules: PolicyRules,
    *,
    signoffs: tuple[SignOffFacts, ...],
    open_conditions: tuple[OpenCondition, ...],
    now: dt.datetime,
) -> GateEvaluation:
    """Evaluate a gate on an initiative loaded with its gate data and its sign-offs and conditions."""
    return evaluate_gate(inputs_from(gate_data(initiative), rules, signoffs, open_conditions), now=now)


def conditions_before(
    conditions: tuple[Condition, ...], review: GateReview | None
) -> tuple[OpenCondition, ...]:
    """The open ones among `conditions` that approvals before `review` attached (as the gate reads them)."""
    return tuple(
        OpenCondition(c.pk, c.text)
        for c in conditions
        if c.closed_at is None and (review is None or c.signoff.review_id != review.pk)
    )


def review_checklists(reviews: list[GateReview], *, now: dt.datetime) -> dict[int, GateEvaluation]:
    """Each open review's checklist under its pinned policy, in a fixed number of queries."""
    if not reviews:
        return {}
    readiness = next_gate_readiness(
        Initiative.objects.filter(pk__in={r.initiative_id for r in reviews}), now=now
    )
    return {r.pk: readiness[r.initiative_id] for r in reviews if r.initiative_id in readiness}


# The initiative page ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentRow:
    """An experiment with the verdict the gate would give it, both tests shown."""

    experiment: Experiment
    verdict: ExperimentVerdict | None
    problem: str = ""

    @property
    def result(self):
        return self.verdict.fixed if self.verdict else None

    @property
    def significant(self) -> bool | None:
        return self.verdict.significant if self.verdict else None

    @property
    def method_label(self) -> str:
        if self.verdict is None:
            return ""
        if self.verdict.method == ExperimentMethod.ALWAYS_VALID:
            # Translators: the name of a statistical test; the page shows "<name> test".
            return _("always-valid")
        # Translators: the name of a statistical test; the page shows "<name> test".
        return _("fixed-horizon")

    @property
    def lift_text(self) -> str:
        if self.result is None:
            return "—"
        relative = f" ({self.result.relative_lift:+.1%})" if self.result.relative_lift is not None else ""
        return f"{self.result.lift:+.4f}{relative}"

    @property
    def interval_text(self) -> str:
        if self.result is None:
            return "—"
        # Translators: a confidence interval: its bounds (e.g. "+0.0120") and its level (e.g. "95%").
        return _("%(low)s to %(high)s (%(confidence)s)") % {
            "low": f"{self.result.ci_low:+.4f}",
            "high": f"{self.result.ci_high:+.4f}",
            "confidence": f"{self.result.confidence:.0%}",
        }

    @property
    def p_value_text(self) -> str:
        return f"{self.result.p_value:.4f}" if self.result is not None else "—"

    @property
    def always_valid_text(self) -> str:
        if self.verdict is None:
            return "—"
        valid = self.verdict.always_valid
        figures = {
            "after": ngettext("after %(looks)s look", "after %(looks)s looks", valid.looks)
            % {"looks": valid.looks},
            "low": f"{valid.cs_low:+.4f}",
            "high": f"{valid.cs_high:+.4f}",
        }
        if valid.contradictory:
            message = _(
                # Translators: %(after)s is "after 3 looks"; %(low)s and %(high)s bound the latest look's interval.
                "inconclusive %(after)s: the looks contradict each other (the latest alone %(low)s to %(high)s)"
            )
            return message % figures
        # Translators: an always-valid interval (%(low)s to %(high)s), its p-value and "after 3 looks".
        return _("%(low)s to %(high)s, p = %(p)s %(after)s") % {**figures, "p": f"{valid.p_value:.4f}"}

    def _arm(self, prefix: str) -> str:
        e = self.experiment
        size = getattr(e, f"{prefix}_size")
        if e.metric == "mean":
            mean = getattr(e, f"{prefix}_mean")
            # Translators: an arm's mean and its number of observations (n).
            return _("mean %(mean)s (n = %(size)s)") % {
                "mean": mean.normalize() if mean is not None else "?",
                "size": size,
            }
        return f"{getattr(e, f'{prefix}_successes')} / {size}"

    @property
    def control_text(self) -> str:
        return self._arm("control")

    @property
    def treatment_text(self) -> str:
        return self._arm("treatment")


@dataclass(frozen=True)
class KPIRow:
    kpi: KPI
    latest: KPIMeasurement | None
    measurements: tuple[KPIMeasurement, ...]
    experiments: tuple[ExperimentRow, ...]

    @property
    def attained(self) -> bool | None:
        if self.latest is None:
            return None
        return self.kpi.meets_target(self.latest.value)

    @property
    def measured_from_source(self) -> int:
        """How many of the measurements a connector read from the system of record."""
        return sum(1 for m in self.measurements if m.measured_from_source)

    @property
    def source(self) -> KPISource | None:
        try:
            return self.kpi.source
        except KPISource.DoesNotExist:
            return None

    @property
    def source_problem(self) -> str:
        source = self.source
        return say_stored(source.last_problem) if source is not None and source.last_problem else ""


@dataclass(frozen=True)
class EvidenceRow:
    evidence: Evidence
    version: int
    replaced_by: Evidence | None


@dataclass(frozen=True)
class InitiativePage:
    initiative: Initiative
    business_case: BusinessCase | None
    kpis: tuple[KPIRow, ...]
    evidence: tuple[EvidenceRow, ...]
    roi: RoiProjection
    horizon_months: int
    open_review: GateReview | None
    checklist: GateEvaluation | None
    reviews: tuple[GateReview, ...]
    conditions: tuple[Condition, ...]
    ledger_events: tuple[LedgerEvent, ...]
    ledger_total: int
    judging: PolicyRules  # the rules the experiments are judged by

    @property
    def currency(self) -> str:
        """The business case's currency; empty for the deployment's."""
        return self.business_case.currency if self.business_case is not None else ""

    @property
    def roi_to_date(self) -> Fraction | None:
        return self.roi.roi_to_date

    @property
    def cost_to_date(self) -> Decimal:
        return rounded(self.roi.cost_to_date)

    @property
    def benefit_to_date(self) -> Decimal:
        return rounded(self.roi.benefit_to_date)

    @property
    def experiments(self) -> tuple[tuple[KPI, ExperimentRow], ...]:
        return tuple((row.kpi, e) for row in self.kpis for e in row.experiments)

    @property
    def roi_to_date_text(self) -> str:
        return "—" if self.roi.roi_to_date is None else percent(self.roi.roi_to_date)

    @property
    def projected_roi_text(self) -> str:
        return "—" if self.roi.roi is None else percent(self.roi.roi)


def _experiment_row(experiment: Experiment, facts, kpi: KPIFacts, rules: PolicyRules) -> ExperimentRow:
    return ExperimentRow(experiment, *judge_experiment(facts, kpi, rules))


def _evidence_rows(evidence: list[Evidence]) -> tuple[EvidenceRow, ...]:
    by_id = {e.pk: e for e in evidence}
    newer = {e.replaces_id: e for e in evidence if e.replaces_id}
    rows = []
    for item in evidence:
        version, earlier = 1, item.replaces_id
        while earlier in by_id:
            version += 1
            earlier = by_id[earlier].replaces_id
        rows.append(EvidenceRow(item, version, newer.get(item.pk)))
    return tuple(rows)


def initiative_page(initiative_or_pk: Initiative | int, *, now: dt.datetime) -> InitiativePage:
    """Everything the initiative page shows. 13 to 16 queries whatever the number of KPIs,
    measurements, experiments, evidence, reviews, sign-offs and ledger events."""
    pk = initiative_or_pk if isinstance(initiative_or_pk, int) else initiative_or_pk.pk
    initiative: Initiative = (
        Initiative.objects.select_related("owner", "sponsor", "business_case")
        .prefetch_related(
            *_gate_prefetches(Evidence.objects.select_related("submitted_by")),
            Prefetch(
                "reviews",
                queryset=GateReview.objects.select_related("policy", "requested_by", "decided_by")
                .prefetch_related(
                    Prefetch(
                        "signoffs",
                        queryset=SignOff.objects.select_related("function", "reviewer").order_by(
                            "signed_at", "id"
                        ),
                    )
                )
                .order_by("-opened_at", "-id"),
            ),
            Prefetch(
                "conditions",
                queryset=Condition.objects.select_related("owner", "closed_by", "signoff__function"),
            ),
        )
        .get(pk=pk)
    )
    try:
        case = initiative.business_case
    except BusinessCase.DoesNotExist:
        case = None

    reviews = tuple(initiative.reviews.all())
    open_review = next((r for r in reviews if r.status == ReviewStatus.OPEN), None)
    conditions = tuple(initiative.conditions.all())
    checklist = None
    if open_review is not None:
        checklist = evaluate_with(
            initiative,
            policy_rules(open_review.policy),
            signoffs=tuple(signoff_facts(s) for s in open_review.signoffs.all() if s.superseded_at is None),
            open_conditions=conditions_before(conditions, open_review),
            now=now,
        )
    elif initiative.stage == Stage.DRAFT:
        checklist = evaluate_with(initiative, SUBMISSION_RULES, signoffs=(), open_conditions=(), now=now)
    elif GATES_FROM_STAGE.get(initiative.stage):
        try:
            policy = current_policy(GATES_FROM_STAGE[initiative.stage][0])
        except GatePolicy.DoesNotExist:
            policy = None
        if policy is not None:
            checklist_rules = policy_rules(policy)
            checklist = evaluate_with(
                initiative,
                checklist_rules,
                signoffs=(),
                open_conditions=conditions_before(conditions, None),
                now=now,
            )

    # Experiments are judged by judging_policy (chosen by the initiative's state, never by its
    # data, so that the page's query count does not depend on it); a pilot's checklist already
    # read the scale gate's current policy.
    if open_review is None and initiative.stage == Stage.PILOT and checklist is not None:
        judging = checklist_rules
    else:
        judging = policy_rules(judging_policy(open_review))
    kpis = []
    for kpi in initiative.kpis.all():
        measurements = tuple(kpi.measurements.all())
        facts = kpi_facts(kpi_row(kpi))
        kpis.append(
            KPIRow(
                kpi=kpi,
                latest=measurements[-1] if measurements else None,
                measurements=measurements,
                experiments=tuple(
                    _experiment_row(e, f, facts, judging)
                    for e, f in zip(kpi.experiments.all(), facts.experiments, strict=True)
                ),
            )
        )

    entries = list(initiative.financial_entries.all())
    horizon = case.horizon_months if case else 36
    roi = project_roi(
        costs=[MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.COST],
        benefits=[MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.BENEFIT],
        horizon_months=horizon,
    )
    events = LedgerEvent.objects.filter(initiative_id=pk)
    return InitiativePage(
        initiative=initiative,
        business_case=case,
        kpis=tuple(kpis),
        evidence=_evidence_rows(list(initiative.evidence.all())),
        roi=roi,
        horizon_months=horizon,
        open_review=open_review,
        checklist=checklist,
        reviews=reviews,
        conditions=conditions,
        ledger_events=tuple(events.order_by("-seq")[:LEDGER_EVENTS_SHOWN]),
        ledger_total=events.count(),
        judging=judging,
    )
