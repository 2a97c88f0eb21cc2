"""Value data: KPI measurements, experiments, costs and benefits, evidence.

Project leads record these for their own initiatives; each recording changes the evidence digest,
so approvals signed before it become stale and must be given again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from governance.access.checks import (
    lock_initiative,
    require_not_terminal,
    require_on,
    require_single_line,
)
from governance.access.matrix import Operation
from governance.errors import InvalidInput
from governance.ledger.chain import ledger_append
from governance.ledger.events import (
    EVIDENCE_SUBMITTED,
    EXPERIMENT_LOOK_RECORDED,
    EXPERIMENT_RECORDED,
    FINANCIAL_ENTRY_RECORDED,
    KPI_MEASUREMENTS_RECORDED,
)
from governance.value.evidence_checks import check_evidence_file, sent_name
from projects.models import (
    KPI,
    Evidence,
    Experiment,
    ExperimentLook,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from projects.periods import check_figure_date
from projects.text import control_characters
from projects.values import parse_decimal
from projects.vocabulary import EntryKind, EvidenceKind, Metric


@dataclass(frozen=True)
class MeasurementInput:
    period: dt.date
    value: object  # parsed and checked here: people and pipelines send strings, floats, NaN …
    source: str
    sample_size: int | None = None


class MeasurementErrors(InvalidInput):
    """Bulk input refused; `errors` maps each bad row's index to its reason."""

    def __init__(self, errors: dict[int, str]):
        self.errors = errors
        shown = "; ".join(f"row {i}: {reason}" for i, reason in list(errors.items())[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} measurement(s) refused, nothing stored: {shown}{more}.")


def _look_date(looked_on: dt.date, *, now: dt.datetime) -> dt.date:
    """A look's day, in the range every dated figure keeps (projects/periods.py)."""
    try:
        return check_figure_date(looked_on, what="Looked on", now=now)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _first_of_month(day: dt.date) -> bool:
    return isinstance(day, dt.date) and day.day == 1


def _owned_live_initiative(
    actor, initiative: Initiative | int, *, operation: Operation, action: str
) -> Initiative:
    initiative = lock_initiative(initiative)
    require_on(actor, operation, initiative, action=action)
    require_not_terminal(initiative)
    return initiative


@transaction.atomic
def measurements_record(
    *, actor, kpi: KPI, measurements: Sequence[MeasurementInput], now: dt.datetime | None = None
) -> list[KPIMeasurement]:
    """Record KPI measurements, all or nothing. Ledger: kpi.measurements_recorded (one event)."""
    now = now or timezone.now()
    initiative = _owned_live_initiative(
        actor,
        kpi.initiative_id,
        operation=Operation.RECORD_MEASUREMENTS,
        action="record its KPI measurements",
    )
    if not measurements:
        raise InvalidInput("No measurement given.")
    errors: dict[int, str] = {}
    rows: list[KPIMeasurement] = []
    seen: set[dt.date] = set()
    existing = set(KPIMeasurement.objects.filter(kpi=kpi).values_list("period", flat=True))
    for index, item in enumerate(measurements):
        try:
            value = parse_decimal(item.value, what="Value")
        except ValueError as error:
            errors[index] = str(error)
            continue
        if not _first_of_month(item.period):
            errors[index] = "Period must be the first day of a month."
            continue
        try:
            check_figure_date(item.period, what="Period", now=now, monthly=True)
        except ValueError as error:
            errors[index] = str(error)
            continue
        if item.period in seen or item.period in existing:
            errors[index] = f"{kpi.name} already has a measurement for {item.period:%Y-%m}."
        elif item.sample_size is not None and (isinstance(item.sample_size, bool) or item.sample_size < 0):
            errors[index] = "Sample size must be a non-negative whole number."
        elif not item.source or not item.source.strip():
            errors[index] = "Source is required."
        elif control_characters(item.source):
            errors[index] = "Source must be a single line: remove the line breaks or control characters."
        else:
            seen.add(item.period)
            rows.append(
                KPIMeasurement(
                    kpi=kpi,
                    period=item.period,
                    value=value,
                    sample_size=item.sample_size,
                    source=item.source.strip(),
                    recorded_by=actor,
                )
            )
    if errors:
        raise MeasurementErrors(errors)
    created = KPIMeasurement.objects.bulk_create(rows)
    ledger_append(
        actor=actor,
        action=KPI_MEASUREMENTS_RECORDED,
        initiative=initiative,
        payload={
            "kpi": kpi.pk,
            "measurements": [
                {"period": m.period, "value": m.value, "sample_size": m.sample_size, "source": m.source}
                for m in rows
            ],
        },
    )
    return created


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{what} must be a non-negative whole number.")
    return value


def _arm_summary(
    *,
    metric: str,
    control_size: object,
    control_successes: object,
    treatment_size: object,
    treatment_successes: object,
    control_mean: object,
    control_variance: object,
    treatment_mean: object,
    treatment_variance: object,
) -> dict:
    """The checked summary of both arms: counts for proportions, plus means and variances for means."""
    if metric not in Metric.values:
        raise InvalidInput(f"Metric must be one of {', '.join(Metric.values)}.")
    summary: dict[str, int | Decimal] = {
        "control_size": _count(control_size, "Control size"),
        "treatment_size": _count(treatment_size, "Treatment size"),
        "control_successes": _count(control_successes or 0, "Control successes"),
        "treatment_successes": _count(treatment_successes or 0, "Treatment successes"),
    }
    if summary["control_size"] == 0 or summary["treatment_size"] == 0:
        raise InvalidInput("Each arm needs at least one observation.")
    if metric == Metric.PROPORTION:
        if summary["control_successes"] > summary["control_size"]:
            raise InvalidInput("The control arm cannot have more successes than observations.")
        if summary["treatment_successes"] > summary["treatment_size"]:
            raise InvalidInput("The treatment arm cannot have more successes than observations.")
        return summary
    if summary["control_size"] < 2 or summary["treatment_size"] < 2:
        raise InvalidInput("Each arm needs at least two observations for a variance.")
    for field, raw in (
        ("control_mean", control_mean),
        ("control_variance", control_variance),
        ("treatment_mean", treatment_mean),
        ("treatment_variance", treatment_variance),
    ):
        try:
            summary[field] = parse_decimal(raw, what=field.replace("_", " ").capitalize())
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    if summary["control_variance"] < 0 or summary["treatment_variance"] < 0:
        raise InvalidInput("A variance cannot be negative.")
    return summary


@transaction.atomic
def experiment_record(
    *,
    actor,
    kpi: KPI,
    name: str,
    success_definition: str,
    control_size: int,
    treatment_size: int,
    control_successes: int = 0,
    treatment_successes: int = 0,
    metric: str = Metric.PROPORTION,
    control_mean=None,
    control_variance=None,
    treatment_mean=None,
    treatment_variance=None,
    looked_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Experiment:
    """Record an A/B experiment and its first look (on `looked_on`, today if omitted).
    Ledger: experiment.recorded."""
    now = now or timezone.now()
    _owned_live_initiative(
        actor, kpi.initiative_id, operation=Operation.RECORD_EXPERIMENT, action="record its experiments"
    )
    require_single_line(name=name, success_definition=success_definition)
    summary = _arm_summary(
        metric=metric,
        control_size=control_size,
        control_successes=control_successes,
        treatment_size=treatment_size,
        treatment_successes=treatment_successes,
        control_mean=control_mean,
        control_variance=control_variance,
        treatment_mean=treatment_mean,
        treatment_variance=treatment_variance,
    )
    if not name.strip():
        raise InvalidInput("An experiment needs a name.")
    # As for a later look; a first look dated ahead would also refuse every later one.
    looked_on = _look_date(looked_on or timezone.localdate(now), now=now)
    experiment = Experiment.objects.create(
        kpi=kpi,
        name=name.strip(),
        metric=metric,
        success_definition=success_definition,
        recorded_by=actor,
        **summary,
    )
    ExperimentLook.objects.create(experiment=experiment, looked_on=looked_on, recorded_by=actor, **summary)
    ledger_append(
        actor=actor,
        action=EXPERIMENT_RECORDED,
        initiative=kpi.initiative,
        payload={
            "experiment": experiment.pk,
            "kpi": kpi.pk,
            "name": experiment.name,
            "metric": metric,
            "looked_on": looked_on,
            **summary,
        },
    )
    return experiment


COUNTS = ("control_size", "control_successes", "treatment_size", "treatment_successes")


def _refuse_going_back(last: ExperimentLook | None, looked_on: dt.date, summary: dict) -> None:
    """A look comes after the last one, and its counts, cumulative, never decrease."""
    if last is None:
        return
    if looked_on <= last.looked_on:
        raise InvalidInput(f"A new look must come after the last one ({last.looked_on}).")
    decreased = [field for field in COUNTS if summary[field] < getattr(last, field)]
    if decreased:
        raise InvalidInput(
            "Counts are cumulative and cannot decrease: "
            + ", ".join(f.replace("_", " ") for f in decreased)
            + "."
        )


@transaction.atomic
def experiment_look_record(
    *,
    actor,
    experiment: Experiment,
    looked_on: dt.date,
    control_size: int,
    treatment_size: int,
    control_successes: int = 0,
    treatment_successes: int = 0,
    control_mean=None,
    control_variance=None,
    treatment_mean=None,
    treatment_variance=None,
    now: dt.datetime | None = None,
) -> ExperimentLook:
    """Record a later look: the experiment's cumulative summary on `looked_on`.

    Counts are cumulative, so they never decrease, and looks come in date order. The experiment
    shows its latest look. Ledger: experiment.look_recorded.
    """
    now = now or timezone.now()
    kpi = experiment.kpi
    _owned_live_initiative(
        actor, kpi.initiative_id, operation=Operation.RECORD_EXPERIMENT, action="record its experiments"
    )
    experiment = Experiment.objects.select_for_update(of=("self",)).get(pk=experiment.pk)
    summary = _arm_summary(
        metric=experiment.metric,
        control_size=control_size,
        control_successes=control_successes,
        treatment_size=treatment_size,
        treatment_successes=treatment_successes,
        control_mean=control_mean,
        control_variance=control_variance,
        treatment_mean=treatment_mean,
        treatment_variance=treatment_variance,
    )
    _look_date(looked_on, now=now)
    _refuse_going_back(experiment.looks.order_by("-looked_on").first(), looked_on, summary)
    look = ExperimentLook.objects.create(
        experiment=experiment, looked_on=looked_on, recorded_by=actor, **summary
    )
    for field, value in summary.items():
        setattr(experiment, field, value)
    experiment.save(update_fields=list(summary))
    ledger_append(
        actor=actor,
        action=EXPERIMENT_LOOK_RECORDED,
        initiative=kpi.initiative,
        payload={"experiment": experiment.pk, "kpi": kpi.pk, "looked_on": looked_on, **summary},
    )
    return look


@transaction.atomic
def financial_entry_record(
    *,
    actor,
    initiative: Initiative,
    kind: str,
    month: dt.date,
    amount: Decimal | str,
    description: str = "",
    now: dt.datetime | None = None,
) -> FinancialEntry:
    """Record a month's cost or realised benefit, of a month that has happened.
    Ledger: financial_entry.recorded."""
    now = now or timezone.now()
    initiative = _owned_live_initiative(
        actor, initiative, operation=Operation.RECORD_MONEY, action="record its costs and benefits"
    )
    if kind not in EntryKind.values:
        raise InvalidInput(f"Kind must be one of {', '.join(EntryKind.values)}.")
    if not _first_of_month(month):
        raise InvalidInput("Month must be the first day of a month.")
    try:
        check_figure_date(month, what="Month", now=now, monthly=True)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    try:
        amount = parse_decimal(amount, what="Amount", max_digits=14, decimal_places=2)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if amount < 0:
        raise InvalidInput("Amounts are recorded as positive numbers; the kind says cost or benefit.")
    require_single_line(description=description)
    entry = FinancialEntry.objects.create(
        initiative=initiative,
        kind=kind,
        month=month,
        amount=amount,
        description=description,
        recorded_by=actor,
    )
    ledger_append(
        actor=actor,
        action=FINANCIAL_ENTRY_RECORDED,
        initiative=initiative,
        payload={"entry": entry.pk, "kind": kind, "month": month, "amount": amount},
    )
    return entry


def _sha256_of(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def evidence_submit(
    *,
    actor,
    initiative: Initiative,
    kind: str,
    title: str,
    file: File,
    file_name: str | None = None,
    replaces: Evidence | None = None,
) -> Evidence:
    """Add an evidence file with its SHA-256. Ledger: evidence.submitted.

    The file's name (`file_name`; by default the name the upload was sent with), size and
    content are checked first (governance/value/evidence_checks.py). Files are never overwritten: a
    revision is a new version that `replaces` the latest one of the same kind, which stays.
    """
    initiative = _owned_live_initiative(
        actor, initiative, operation=Operation.UPLOAD_EVIDENCE, action="submit its evidence"
    )
    if kind not in EvidenceKind.values:
        raise InvalidInput(f"Kind must be one of {', '.join(EvidenceKind.values)}.")
    if not title.strip():
        raise InvalidInput("Evidence needs a title.")
    require_single_line(title=title)
    if not file or not getattr(file, "size", 0):
        raise InvalidInput("The evidence file is empty.")
    detected = check_evidence_file(file, name=file_name if file_name is not None else sent_name(file))
    if replaces is not None:
        replaces = _replaceable(initiative, replaces, kind)
    sha256 = _sha256_of(file)
    evidence = Evidence(
        initiative=initiative,
        kind=kind,
        title=title.strip(),
        sha256=sha256,
        submitted_by=actor,
        replaces=replaces,
    )
    # Stored under a name the server chooses: the sender's file name never reaches the disk.
    evidence.file.save(f"{sha256[:16]}.bin", file, save=False)
    evidence.save()
    ledger_append(
        actor=actor,
        action=EVIDENCE_SUBMITTED,
        initiative=initiative,
        payload={
            "evidence": evidence.pk,
            "kind": kind,
            "title": evidence.title,
            "sha256": sha256,
            "media_type": detected.content_type,
            "replaces": replaces.pk if replaces else None,
        },
    )
    return evidence


def _replaceable(initiative: Initiative, replaces: Evidence, kind: str) -> Evidence:
    earlier = Evidence.objects.filter(pk=replaces.pk, initiative=initiative).first()
    if earlier is None:
        raise InvalidInput("A new version can only replace evidence of the same initiative.")
    if earlier.kind != kind:
        raise InvalidInput(
            f"A new version of a {earlier.get_kind_display().lower()} must be of the same kind."
        )
    newer = Evidence.objects.filter(replaces=earlier).first()
    if newer is not None:
        raise InvalidInput(
            f"“{earlier.title}” was already replaced by “{newer.title}”; replace that version."
        )
    return earlier
