"""Factories: initiatives in any stage, with the evidence a gate needs and a committee around them."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from governance.access import roles
from projects.models import (
    KPI,
    BusinessCase,
    Evidence,
    Experiment,
    ExperimentLook,
    ExperimentPlan,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from projects.vocabulary import Direction, EntryKind, EvidenceKind, Metric, Stage


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("pw-correct-horse")


def user_in(*group_names: str, **kwargs):
    user = UserFactory(**kwargs)
    # Written as rows that were already there, like the rest of a factory's world: the ledger's
    # membership events (governance/access/recording.py) are what the membership tests look at.
    memberships = type(user).groups.through
    memberships.objects.bulk_create(
        [memberships(user=user, group=Group.objects.get(name=name)) for name in group_names],
        ignore_conflicts=True,
    )
    return user


def lead(**kwargs):
    return user_in(roles.PROJECT_LEADS, **kwargs)


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    title = factory.Sequence(lambda n: f"Initiative {n}")
    owner = factory.LazyFunction(lead)
    department = "Customer service"
    pain_point = "Customers wait an hour for a first reply."
    process_embedding = "Drafts replies inside the ticketing tool; agents edit and send."
    risk_tier = "limited"
    uses_personal_data = False
    stage = Stage.DRAFT


class BusinessCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCase

    initiative = factory.SubFactory(InitiativeFactory)
    budget = Decimal("120000.00")
    expected_annual_benefit = Decimal("400000.00")
    horizon_months = 36
    exit_criteria = "Stop if first response time is not 30% lower after three months."
    missed_periods_to_retire = 3


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    initiative = factory.SubFactory(InitiativeFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "%"
    direction = Direction.INCREASE
    baseline = Decimal("10")
    target = Decimal("13")
    data_source = "BI warehouse"
    is_primary = True


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPIMeasurement

    kpi = factory.SubFactory(KPIFactory)
    period = dt.date(2026, 1, 1)
    value = Decimal("14")
    sample_size = 1000
    source = "BI warehouse"
    recorded_by = factory.LazyAttribute(lambda m: m.kpi.initiative.owner)


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    kpi = factory.SubFactory(KPIFactory)
    name = factory.Sequence(lambda n: f"A/B test {n}")
    success_definition = "converted"
    control_size = 5000
    control_successes = 500
    treatment_size = 5000
    treatment_successes = 650
    recorded_by = factory.LazyAttribute(lambda e: e.kpi.initiative.owner)


class ExperimentLookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExperimentLook

    experiment = factory.SubFactory(ExperimentFactory)
    looked_on = dt.date(2026, 1, 28)
    control_size = factory.SelfAttribute("experiment.control_size")
    control_successes = factory.SelfAttribute("experiment.control_successes")
    treatment_size = factory.SelfAttribute("experiment.treatment_size")
    treatment_successes = factory.SelfAttribute("experiment.treatment_successes")
    recorded_by = factory.LazyAttribute(lambda look: look.experiment.recorded_by)


class ExperimentPlanFactory(factory.django.DjangoModelFactory):
    """A registered plan: 50/50, an effect of 2 points on a KPI kept in percent, 10,000 units a month
    (enough to show it within a few months)."""

    class Meta:
        model = ExperimentPlan

    kpi = factory.SubFactory(KPIFactory)
    metric = Metric.PROPORTION
    minimum_effect = Decimal("2")
    treatment_share = Decimal("0.5")
    planned_looks = 6
    traffic_per_month = 10000
    registered_by = factory.LazyAttribute(lambda p: p.kpi.initiative.owner)


def experiment_with_looks(
    kpi: KPI, looks: list[tuple[dt.date, tuple[int, int, int, int]]], **kwargs
) -> Experiment:
    """A proportion A/B experiment on `kpi` with cumulative looks, each (date, (control size,
    control successes, treatment size, treatment successes)); it shows its last look."""
    fields = ("control_size", "control_successes", "treatment_size", "treatment_successes")
    experiment = ExperimentFactory(kpi=kpi, **dict(zip(fields, looks[-1][1], strict=True)), **kwargs)
    for looked_on, counts in looks:
        ExperimentLookFactory(
            experiment=experiment, looked_on=looked_on, **dict(zip(fields, counts, strict=True))
        )
    return experiment


class FinancialEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancialEntry

    initiative = factory.SubFactory(InitiativeFactory)
    kind = EntryKind.COST
    month = dt.date(2026, 1, 1)
    amount = Decimal("10000.00")
    recorded_by = factory.LazyAttribute(lambda e: e.initiative.owner)


def evidence(
    initiative: Initiative, kind: str = EvidenceKind.BUSINESS_CASE, content: bytes = b"%PDF-1.4 case"
):
    digest = hashlib.sha256(content).hexdigest()
    item = Evidence(
        initiative=initiative,
        kind=kind,
        title=kind.replace("_", " "),
        sha256=digest,
        submitted_by=initiative.owner,
    )
    item.file.save(f"{digest[:16]}.bin", ContentFile(content), save=True)
    return item


def committee() -> dict[str, object]:
    """One member for each function, a chair and an auditor."""
    members = {
        code: user_in(group, username=f"{code}-member") for code, group in roles.FUNCTION_GROUPS.items()
    }
    members["chair"] = user_in(roles.COMMITTEE_CHAIR, username="chair")
    members["auditor"] = user_in(roles.AUDITORS, username="auditor")
    return members


def proposal_ready_for_pilot_gate(**kwargs) -> Initiative:
    """A proposal with a complete business case, a primary KPI and its business-case document."""
    initiative = InitiativeFactory(stage=Stage.PROPOSAL, **kwargs)
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="First-contact resolution")
    evidence(initiative, EvidenceKind.BUSINESS_CASE)
    if initiative.uses_personal_data:
        evidence(initiative, EvidenceKind.PRIVACY_IMPACT, b"PIA content")
    return initiative


def pilot_ready_for_scale_gate(*, months: int = 3, **kwargs) -> Initiative:
    """A pilot with measurements that meet target, a significant experiment, positive ROI, report."""
    started = timezone.now() - dt.timedelta(days=31 * months + 5)
    initiative = InitiativeFactory(stage=Stage.PILOT, stage_entered_at=started, **kwargs)
    BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(
        initiative=initiative, name="Conversion rate", baseline=Decimal("10"), target=Decimal("12")
    )
    first = started.date().replace(day=1)
    for i in range(months):
        month = _add_months(first, i + 1)
        MeasurementFactory(kpi=kpi, period=month, value=Decimal("12.5") + i)
        FinancialEntryFactory(
            initiative=initiative, kind=EntryKind.COST, month=month, amount=Decimal("10000")
        )
        FinancialEntryFactory(
            initiative=initiative, kind=EntryKind.BENEFIT, month=month, amount=Decimal("30000")
        )
    # Registered before the pilot's data, with the split its experiment's arms hold.
    ExperimentPlanFactory(kpi=kpi)
    ExperimentFactory(kpi=kpi)
    evidence(initiative, EvidenceKind.PILOT_REPORT, b"pilot report")
    return initiative


def pilot_with_everything_the_scale_gate_reads(*, months: int = 6, **kwargs) -> Initiative:
    """A pilot ready for its scale gate that gives the gate the most to read: a primary KPI with
    months of measurements and an experiment with looks, a guardrail KPI with its own measurements
    and a mean experiment, monthly costs and benefits, and its evidence."""
    initiative = pilot_ready_for_scale_gate(months=months, **kwargs)
    kpi = initiative.kpis.get()
    experiment = kpi.experiments.get()
    ExperimentLookFactory(
        experiment=experiment, looked_on=dt.date(2026, 9, 1), control_size=2500, treatment_size=2500
    )
    ExperimentLookFactory(experiment=experiment, looked_on=dt.date(2026, 10, 1))
    guardrail = KPIFactory(
        initiative=initiative,
        name="Complaints",
        is_primary=False,
        direction=Direction.DECREASE,
        target=Decimal("8"),
        is_guardrail=True,
        non_inferiority_margin=Decimal("0.5"),
    )
    for month in range(1, 10):
        MeasurementFactory(kpi=guardrail, period=dt.date(2026, month, 1), value=Decimal("0.123456") * month)
    ExperimentFactory(
        kpi=guardrail,
        metric=Metric.MEAN,
        control_mean=Decimal("3.141593"),
        control_variance=Decimal("1.414214"),
        treatment_mean=Decimal("3.050000"),
        treatment_variance=Decimal("1.500001"),
    )
    return initiative


def proposal_through_services(*, data_source: str = "BI"):
    """A proposal built through the services alone, so that the ledger holds every fact of it (what
    a signer's snapshot rebuilds): its business case, one primary KPI and the case document.
    Returns the initiative and its KPI."""
    from governance.reviews.initiatives import (
        business_case_record,
        initiative_create,
        initiative_submit,
        kpi_define,
    )
    from governance.value.services import evidence_submit

    owner = lead(username="lead")
    initiative = initiative_create(
        actor=owner,
        title="Reply drafts",
        department="Service",
        pain_point="Slow",
        process_embedding="Tickets",
    )
    business_case_record(
        actor=owner,
        initiative=initiative,
        budget="1000",
        expected_annual_benefit="5000",
        horizon_months=12,
        exit_criteria="Stop if slower",
    )
    kpi = kpi_define(
        actor=owner,
        initiative=initiative,
        name="Resolved in time",
        unit="share",
        direction="increase",
        baseline="0.4",
        target="0.5",
        data_source=data_source,
    )
    initiative_submit(actor=owner, initiative=initiative)
    evidence_submit(
        actor=owner,
        initiative=initiative,
        kind="business_case",
        title="Case",
        file=ContentFile(b"The case.\n", name="case.txt"),
    )
    return initiative, kpi


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


# Evidence file names an upload may be forged with, and the reason each is refused; the admin's
# upload page and the API's must refuse every one of them the same way.
FORGED_FILE_NAMES = [
    ("../../x.pdf", "path separator"),
    ("..\\..\\x.pdf", "path separator"),
    ("report\x00.pdf", "NUL character"),
    ("invoice\u202efdp.pdf", "bidirectional formatting character (U+202E)"),
    ("two\nlines.pdf", "control character (U+000A)"),
    ("two&#10;lines.pdf", "control character (U+000A)"),
]
