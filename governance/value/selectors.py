"""Inputs of the monthly value review and the exit criteria, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from governance.reviews.facts import business_case_facts, business_case_of, kpi_definition
from governance.rules.gates import KPIFacts, MeasurementFacts
from governance.rules.value import DatedLook, KPIExperiment, ValueInputs, month_start
from projects.models import KPI, Experiment, ExperimentLook, Initiative, KPIMeasurement
from projects.roi import MonthlyAmount
from projects.sequential import MeanLook, ProportionLook, mean_figure
from projects.vocabulary import EntryKind, Metric, Stage

VALUE_TRACKED_STAGES = (Stage.PILOT, Stage.SCALE)


def value_tracked_initiatives(ids: list[int] | None = None) -> QuerySet[Initiative]:
    """Initiatives in pilot or scale with what the value rules read: at most 6 queries whatever the rows
    (initiatives with business cases, KPIs, measurements, experiments, looks, financial entries)."""
    queryset = (
        Initiative.objects.filter(stage__in=VALUE_TRACKED_STAGES)
        .select_related("business_case")
        .prefetch_related(
            Prefetch(
                "kpis",
                queryset=KPI.objects.order_by("id").prefetch_related(
                    Prefetch("measurements", queryset=KPIMeasurement.objects.order_by("period")),
                    Prefetch(
                        "experiments",
                        queryset=Experiment.objects.order_by("id").prefetch_related(
                            Prefetch("looks", queryset=ExperimentLook.objects.order_by("looked_on", "id"))
                        ),
                    ),
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
    return kpi_definition(
        kpi,
        measurements=tuple(
            MeasurementFacts(m.period, m.value, m.reading_id is not None) for m in kpi.measurements.all()
        ),
    )


def _figures(metric: str, summary) -> ProportionLook | MeanLook:
    """Both arms' cumulative figures of a look (or of an experiment's own summary)."""
    if metric == Metric.MEAN:
        return MeanLook(
            summary.control_size,
            _float(summary.control_mean),
            _float(summary.control_variance),
            summary.treatment_size,
            _float(summary.treatment_mean),
            _float(summary.treatment_variance),
        )
    return ProportionLook(
        summary.control_size, summary.control_successes, summary.treatment_size, summary.treatment_successes
    )


def _float(value) -> float:
    return mean_figure(None if value is None else float(value))


def kpi_experiment(kpi: KPI, experiment: Experiment) -> KPIExperiment:
    looks = tuple(
        DatedLook(look.looked_on, _figures(experiment.metric, look)) for look in experiment.looks.all()
    )
    if not looks:
        # Written without the services, which record a first look: its own figures are its only
        # look, as for the gates (ExperimentFacts.all_looks), dated when it was recorded.
        looks = (
            DatedLook(
                experiment.recorded_at.astimezone(dt.UTC).date(), _figures(experiment.metric, experiment)
            ),
        )
    return KPIExperiment(kpi=kpi.name, name=experiment.name, metric=experiment.metric, looks=looks)


def value_inputs(initiative: Initiative, *, month: dt.date) -> ValueInputs:
    """The value review inputs of `initiative` (loaded by value_tracked_initiatives) for `month`.

    A pilot owes measurements from the month it started; an initiative in scale, every month.
    Experiments come with every look: the rules keep those dated up to the end of `month`.
    """
    kpis = list(initiative.kpis.all())
    entries = list(initiative.financial_entries.all())
    expected_from = (
        month_start(initiative.stage_entered_at.date()) if initiative.stage == Stage.PILOT else None
    )
    return ValueInputs(
        stage=initiative.stage,
        month=month,
        measurements_expected_from=expected_from,
        kpis=tuple(kpi_facts(k) for k in kpis),
        business_case=business_case_facts(business_case_of(initiative)),
        costs=tuple(MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.COST),
        benefits=tuple(MonthlyAmount(e.month, e.amount) for e in entries if e.kind == EntryKind.BENEFIT),
        experiments=tuple(kpi_experiment(k, e) for k in kpis for e in k.experiments.all()),
    )
