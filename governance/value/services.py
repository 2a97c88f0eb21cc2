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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from governance.access.checks import lock_live_initiative_for, require_single_line
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
        shown = "; ".join(
            # Translators: %(row)s is the index of a row of the input; %(reason)s why it was refused.
            _("row %(row)s: %(reason)s") % {"row": i, "reason": reason}
            for i, reason in list(errors.items())[:5]
        )
        if len(errors) > 5:
            message = ngettext(
                # Translators: %(rows)s lists the first five rows refused and why; %(more)s is how many
                # more were refused.
                "%(count)s measurement refused, nothing stored: %(rows)s (and %(more)s more).",
                "%(count)s measurements refused, nothing stored: %(rows)s (and %(more)s more).",
                len(errors),
            ) % {
                "count": len(errors),
                "rows": shown,
                "more": len(errors) - 5,
            }
        else:
            message = ngettext(
                # Translators: %(rows)s lists the rows refused and why.
                "%(count)s measurement refused, nothing stored: %(rows)s.",
                "%(count)s measurements refused, nothing stored: %(rows)s.",
                len(errors),
            ) % {
                "count": len(errors),
                "rows": shown,
            }
        super().__init__(message)


def _look_date(looked_on: dt.date, *, now: dt.datetime) -> dt.date:
    """A look's day, in the range every dated figure keeps (projects/periods.py)."""
    try:
        # Translators: the name of a date field, completed by "… is after …" in the refusal.
        return check_figure_date(looked_on, what=_("Looked on"), now=now)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _first_of_month(day: dt.date) -> bool:
    return isinstance(day, dt.date) and day.day == 1


@transaction.atomic
def measurements_record(
    *, actor, kpi: KPI, measurements: Sequence[MeasurementInput], now: dt.datetime | None = None
) -> list[KPIMeasurement]:
    """Record KPI measurements, all or nothing. Ledger: kpi.measurements_recorded (one event)."""
    now = now or timezone.now()
    initiative = lock_live_initiative_for(
        actor,
        kpi.initiative_id,
        operation=Operation.RECORD_MEASUREMENTS,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "record its KPI measurements"),
    )
    if not measurements:
        raise InvalidInput(_("No measurement given."))
    errors: dict[int, str] = {}
    rows: list[KPIMeasurement] = []
    seen: set[dt.date] = set()
    existing = set(KPIMeasurement.objects.filter(kpi=kpi).values_list("period", flat=True))
    for index, item in enumerate(measurements):
        try:
            # Translators: the name of a field, completed by e.g. "… must be a number." in a refusal.
            value = parse_decimal(item.value, what=_("Value"))
        except ValueError as error:
            errors[index] = str(error)
            continue
        if not _first_of_month(item.period):
            errors[index] = _("Period must be the first day of a month.")
            continue
        try:
            # Translators: the name of a field, completed by e.g. "… is after …" in a refusal.
            check_figure_date(item.period, what=_("Period"), now=now, monthly=True)
        except ValueError as error:
            errors[index] = str(error)
            continue
        if item.period in seen or item.period in existing:
            # Translators: %(kpi)s is the KPI's name; %(period)s a month, YYYY-MM.
            errors[index] = _("%(kpi)s already has a measurement for %(period)s.") % {
                "kpi": kpi.name,
                "period": f"{item.period:%Y-%m}",
            }
        elif item.sample_size is not None and (isinstance(item.sample_size, bool) or item.sample_size < 0):
            errors[index] = _("Sample size must be a non-negative whole number.")
        elif not item.source or not item.source.strip():
            errors[index] = _("Source is required.")
        elif control_characters(item.source):
            errors[index] = _("Source must be a single line: remove the line breaks or control characters.")
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


# The arms' figures as people name them: in the refusals of a count or a figure, and (lower case)
# in the list of counts that decreased.
FIELD_LABELS = {
    "control_size": gettext_lazy("Control size"),
    "treatment_size": gettext_lazy("Treatment size"),
    "control_successes": gettext_lazy("Control successes"),
    "treatment_successes": gettext_lazy("Treatment successes"),
    "control_mean": gettext_lazy("Control mean"),
    "control_variance": gettext_lazy("Control variance"),
    "treatment_mean": gettext_lazy("Treatment mean"),
    "treatment_variance": gettext_lazy("Treatment variance"),
}
COUNT_NAMES = {
    "control_size": gettext_lazy("control size"),
    "control_successes": gettext_lazy("control successes"),
    "treatment_size": gettext_lazy("treatment size"),
    "treatment_successes": gettext_lazy("treatment successes"),
}


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        # Translators: %(field)s is the name of a count, e.g. "Control size".
        raise InvalidInput(_("%(field)s must be a non-negative whole number.") % {"field": what})
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
        # Translators: %(values)s lists the metric codes, e.g. "proportion, mean".
        raise InvalidInput(_("Metric must be one of %(values)s.") % {"values": ", ".join(Metric.values)})
    summary: dict[str, int | Decimal] = {
        "control_size": _count(control_size, str(FIELD_LABELS["control_size"])),
        "treatment_size": _count(treatment_size, str(FIELD_LABELS["treatment_size"])),
        "control_successes": _count(control_successes or 0, str(FIELD_LABELS["control_successes"])),
        "treatment_successes": _count(treatment_successes or 0, str(FIELD_LABELS["treatment_successes"])),
    }
    if summary["control_size"] == 0 or summary["treatment_size"] == 0:
        raise InvalidInput(_("Each arm needs at least one observation."))
    if metric == Metric.PROPORTION:
        if summary["control_successes"] > summary["control_size"]:
            raise InvalidInput(_("The control arm cannot have more successes than observations."))
        if summary["treatment_successes"] > summary["treatment_size"]:
            raise InvalidInput(_("The treatment arm cannot have more successes than observations."))
        return summary
    if summary["control_size"] < 2 or summary["treatment_size"] < 2:
        raise InvalidInput(_("Each arm needs at least two observations for a variance."))
    for field, raw in (
        ("control_mean", control_mean),
        ("control_variance", control_variance),
        ("treatment_mean", treatment_mean),
        ("treatment_variance", treatment_variance),
    ):
        try:
            summary[field] = parse_decimal(raw, what=str(FIELD_LABELS[field]))
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    if summary["control_variance"] < 0 or summary["treatment_variance"] < 0:
        raise InvalidInput(_("A variance cannot be negative."))
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
    lock_live_initiative_for(
        actor,
        kpi.initiative_id,
        operation=Operation.RECORD_EXPERIMENT,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "record its experiments"),
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
        raise InvalidInput(_("An experiment needs a name."))
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
        raise InvalidInput(
            # Translators: %(last)s is the date of the last look, YYYY-MM-DD.
            _("A new look must come after the last one (%(last)s).") % {"last": last.looked_on}
        )
    decreased = [field for field in COUNTS if summary[field] < getattr(last, field)]
    if decreased:
        raise InvalidInput(
            # Translators: %(counts)s lists the counts that decreased, e.g. "control size, treatment size".
            _("Counts are cumulative and cannot decrease: %(counts)s.")
            % {"counts": ", ".join(str(COUNT_NAMES[f]) for f in decreased)}
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
    lock_live_initiative_for(
        actor,
        kpi.initiative_id,
        operation=Operation.RECORD_EXPERIMENT,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "record its experiments"),
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
    initiative = lock_live_initiative_for(
        actor,
        initiative,
        operation=Operation.RECORD_MONEY,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "record its costs and benefits"),
    )
    if kind not in EntryKind.values:
        # Translators: %(values)s lists the kind codes, e.g. "cost, benefit".
        raise InvalidInput(_("Kind must be one of %(values)s.") % {"values": ", ".join(EntryKind.values)})
    if not _first_of_month(month):
        raise InvalidInput(_("Month must be the first day of a month."))
    try:
        # Translators: the name of a field, completed by e.g. "… is after …" in a refusal.
        check_figure_date(month, what=_("Month"), now=now, monthly=True)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    try:
        # Translators: the name of a field, completed by e.g. "… must be a number." in a refusal.
        amount = parse_decimal(amount, what=_("Amount"), max_digits=14, decimal_places=2)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    if amount < 0:
        raise InvalidInput(_("Amounts are recorded as positive numbers; the kind says cost or benefit."))
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
    initiative = lock_live_initiative_for(
        actor,
        initiative,
        operation=Operation.UPLOAD_EVIDENCE,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "submit its evidence"),
    )
    if kind not in EvidenceKind.values:
        raise InvalidInput(_("Kind must be one of %(values)s.") % {"values": ", ".join(EvidenceKind.values)})
    if not title.strip():
        raise InvalidInput(_("Evidence needs a title."))
    require_single_line(title=title)
    if not file or not getattr(file, "size", 0):
        raise InvalidInput(_("The evidence file is empty."))
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
        raise InvalidInput(_("A new version can only replace evidence of the same initiative."))
    if earlier.kind != kind:
        raise InvalidInput(
            # Translators: %(kind)s is a kind of evidence in lower case, e.g. "business case".
            _("A new version of a %(kind)s must be of the same kind.")
            % {"kind": earlier.get_kind_display().lower()}
        )
    newer = Evidence.objects.filter(replaces=earlier).first()
    if newer is not None:
        raise InvalidInput(
            # Translators: %(earlier)s and %(newer)s are titles of evidence files.
            _("“%(earlier)s” was already replaced by “%(newer)s”; replace that version.")
            % {"earlier": earlier.title, "newer": newer.title}
        )
    return earlier
