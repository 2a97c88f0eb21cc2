"""Inputs of the monthly value review and the exit criteria, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from governance.rules.gates import BusinessCaseFacts, KPIFacts, MeasurementFacts
from governance.rules.roi import MonthlyAmount
from governance.rules.value import ValueInputs, month_start
from projects.models import KPI, BusinessCase, EntryKind, Initiative, KPIMeasurement, Stage

VALUE_TRACKED_STAGES = (Stage.PILOT, Stage.SCALE)


def value_tracked_initiatives(ids: list[int] | None = None) -> QuerySet[Initiative]:
    """Initiatives in pilot or scale with what the value rules read: 4 queries whatever the rows."""
    queryset = (
        Initiative.objects.filter(stage__in=VALUE_TRACKED_STAGES)
        .select_related("business_case")
        .prefetch_related(
            Prefetch(
                "kpis",
                queryset=KPI.objects.order_by("id").prefetch_related(
                    Prefetch("measurements", queryset=KPIMeasurement.objects.order_by("period"))
                ),
            ),
            "financial_entries",
        )
        .order_by("id")
    )
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset


def kpi_facts(kpi: KPI) -> KPIFacts:
    return KPIFacts(
        name=kpi.name,
        unit=kpi.unit,
        direction=kpi.direction,
        baseline=kpi.baseline,
        target=kpi.target,
        data_source=kpi.data_source,
        is_primary=kpi.is_primary,
        measurements=tuple(MeasurementFacts(m.period, m.value) for m in kpi.measurements.all()),
    )


def business_case_facts(initiative: Initiative) -> BusinessCaseFacts | None:
    try:
        case = initiative.business_case
    except BusinessCase.DoesNotExist:
        return None
    return BusinessCaseFacts(
        budget=case.budget,
        expected_annual_benefit=case.expected_annual_benefit,
        horizon_months=case.horizon_months,
        exit_criteria=case.exit_criteria,
        missed_periods_to_retire=case.missed_periods_to_retire,
    )


def value_inputs(initiative: Initiative, *, month: dt.date) -> ValueInputs:
    """The value review inputs of `initiative` (loaded by value_tracked_initiatives) for `month`.

    A pilot owes measurements from the month it started; an initiative in scale, every month.
    """
    entries = list(initiative.financial_entries.all())
    expected_from = (
        month_start(initiative.stage_entered_at.date()) if initiative.stage == Stage.PILOT else None
    )
    return ValueInputs(
        stage=initiative.stage,
        month=month,
        measurements_expected_from=expected_from,
        kpis=tuple(kpi_facts(k) for k in initiative.kpis.all()),
        business_case=business_case_facts(initiative),
        costs=tuple(MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.COST),
        benefits=tuple(MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.BENEFIT),
    )
