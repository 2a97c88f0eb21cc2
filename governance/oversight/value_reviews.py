"""Monthly value reviews and exit criteria of the initiatives in pilot or scale."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.access import roles
from governance.access.checks import lock_initiative
from governance.access.matrix import SCHEDULER, Operation, require
from governance.ledger.chain import ledger_append
from governance.ledger.events import EXIT_CRITERIA_MET, VALUE_REVIEW_OPENED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notify
from governance.oversight.calendar import as_utc
from governance.oversight.models import ExitCriteriaBreach
from governance.reasons import said, say
from governance.reviews.models import GateReview
from governance.reviews.services import review_open_by_system
from governance.rules.reasons import Listing, Param, Reason
from governance.rules.value import (
    MEASUREMENTS_DUE_DAY,
    ExperimentVerdictLine,
    KPIAttainment,
    ValueAssessment,
    assess_value,
    exit_criteria_breaches,
    month_start,
)
from governance.value.models import ValueReview
from governance.value.selectors import VALUE_TRACKED_STAGES, value_inputs, value_tracked_initiatives
from projects.models import Initiative
from projects.money import format_money
from projects.roi import rounded
from projects.vocabulary import Gate, ReviewStatus

RATIO_PLACES = 4  # as ValueReview's ROI columns keep them


def value_reviews_open(*, now: dt.datetime) -> int:
    """Open this month's value review of every initiative in pilot or scale, once per month.

    The month is the UTC calendar month of `now`; reviews open from the day last month's
    measurements are due (MEASUREMENTS_DUE_DAY), so that missing ones are flagged as overdue.
    Ledger: value_review.opened. Side effects: the chair and the project lead get the review; the
    lead is asked for overdue measurements. Returns the number of reviews opened.
    """
    require(SCHEDULER, Operation.OPEN_VALUE_REVIEW)
    now = as_utc(now)
    if now.day < MEASUREMENTS_DUE_DAY:
        return 0
    month = month_start(now.date())
    candidates = (
        Initiative.objects.filter(stage__in=VALUE_TRACKED_STAGES)
        .exclude(value_reviews__month=month)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return sum(_open_value_review(pk, month, now) for pk in list(candidates))


def _ratio(value: Fraction | Decimal | None) -> Decimal | None:
    return None if value is None else rounded(value, RATIO_PLACES)


@transaction.atomic
def _open_value_review(initiative_id: int, month: dt.date, now: dt.datetime) -> bool:
    initiative = lock_initiative(initiative_id)
    if (
        initiative.stage not in VALUE_TRACKED_STAGES
        or ValueReview.objects.filter(initiative=initiative, month=month).exists()
    ):
        return False
    loaded = value_tracked_initiatives([initiative.pk]).get()
    assessment = assess_value(value_inputs(loaded, month=month))
    currency = _currency_of(loaded)
    review, created = ValueReview.objects.get_or_create(
        initiative=initiative,
        month=month,
        defaults={
            "stage": initiative.stage,
            "opened_at": now,
            "recommendation": assessment.recommendation,
            "reasons": _as_recorded(assessment.reasons),
            "reason_codes": [reason.as_json() for reason in assessment.reasons],
            "kpi_attainment": _attainment_rows(assessment),
            "overdue_kpis": list(assessment.overdue_kpis),
            "cost_to_date": rounded(assessment.roi.cost_to_date),
            "benefit_to_date": rounded(assessment.roi.benefit_to_date),
            "roi_to_date": _ratio(assessment.roi.roi_to_date),
            "projected_roi": _ratio(assessment.roi.roi),
        },
    )
    if not created:
        return False
    ledger_append(
        actor=None,
        action=VALUE_REVIEW_OPENED,
        initiative=initiative,
        payload={
            "value_review": review.pk,
            "month": month,
            "stage": initiative.stage,
            "recommendation": review.recommendation,
            "reasons": review.reasons,
            "reason_codes": review.reason_codes,
            "kpis": review.kpi_attainment,
            "overdue_kpis": review.overdue_kpis,
            "cost_to_date": review.cost_to_date,
            "benefit_to_date": review.benefit_to_date,
            "roi_to_date": review.roi_to_date,
            "projected_roi": review.projected_roi,
        },
    )
    notify(
        recipients=[*members_of([roles.COMMITTEE_CHAIR]), initiative.owner],
        event_key=f"value-review-{initiative.pk}-{month:%Y-%m}",
        event=NotificationEvent.VALUE_REVIEW_OPENED,
        initiative=initiative,
        about=review,
        # Translators: %(month)s is YYYY-MM; %(recommendation)s e.g. "Continue" or "Adjust".
        subject=lambda: (
            _("[ValueGate] Value review %(month)s of %(title)s: %(recommendation)s")
            % {
                "month": f"{month:%Y-%m}",
                "title": initiative.title,
                "recommendation": review.get_recommendation_display(),
            }
        ),
        body=lambda: _value_review_text(initiative, review, assessment, currency),
    )
    if review.overdue_kpis:
        notify(
            recipients=[initiative.owner],
            event_key=f"kpi-overdue-{initiative.pk}-{month:%Y-%m}",
            event=NotificationEvent.KPI_OVERDUE,
            initiative=initiative,
            to_do=lambda: _("Record last month's measurements of these KPIs."),
            subject=lambda: (
                _("[ValueGate] KPI measurements overdue for %(title)s") % {"title": initiative.title}
            ),
            body=lambda: (
                _(
                    # Translators: %(kpis)s lists KPI names; %(day)s is a day of the month (a number).
                    "No measurement was recorded last month for: %(kpis)s. "
                    "Measurements of a month are due by day %(day)s of the next."
                )
                % {
                    "kpis": pgettext("between the words of a list", ", ").join(review.overdue_kpis),
                    "day": MEASUREMENTS_DUE_DAY,
                }
            ),
        )
    return True


def _as_recorded(reasons) -> list[str]:
    """The reasons in the ledger's words (English), whoever's language is active, beside their
    codes: readers that predate the codes, and the exports, read these."""
    with translation.override(None):
        return list(said(reasons))


def _attainment_rows(assessment: ValueAssessment) -> list[dict]:
    return [_attainment_row(k) for k in assessment.kpis]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _attainment_row(k: KPIAttainment) -> dict:
    row = {
        "kpi": k.name,
        "primary": k.is_primary,
        "period": f"{k.latest.period:%Y-%m}" if k.latest else None,
        "value": _text(k.latest.value) if k.latest else None,
        "baseline": _text(k.baseline),
        "target": _text(k.target),
        "attainment": _text(_ratio(k.attainment)),
        "meets_target": k.meets_target,
        "consecutive_misses": k.missed_run.length,
        "overdue": k.overdue,
    }
    if k.experiments:
        row["experiments"] = [_experiment_row(e) for e in k.experiments]
    if k.latest is not None and k.latest.from_source:
        row["measured_from_source"] = True
    return row


def _bound(value: float | None) -> str | None:
    """A bound of the interval as text (the ledger records no floats); None when unbounded."""
    return None if value is None or not math.isfinite(value) else f"{value:.6f}"


def _experiment_row(e: ExperimentVerdictLine) -> dict:
    return {
        "name": e.name,
        "looks": e.looks,
        "method": e.method,
        "low": _bound(e.low),
        "high": _bound(e.high),
        "significant": e.significant,
        "conclusively_negative": e.conclusively_negative,
        "summary": _as_recorded([e.summary])[0],
        "summary_code": e.summary.as_json(),
    }


def _currency_of(initiative) -> str:
    try:
        return initiative.business_case.currency
    except ObjectDoesNotExist:
        return ""


def _value_review_text(initiative, review: ValueReview, assessment: ValueAssessment, currency: str) -> str:
    roi = (
        _("not computable (no cost recorded)") if review.roi_to_date is None else f"{review.roi_to_date:.1%}"
    )
    kpis = []
    for k in assessment.kpis:
        kpis.append(f"- {say(k.describe())}")
        kpis += [
            # Translators: %(name)s is the A/B test's name; %(summary)s its verdict.
            "  " + _("A/B test “%(name)s”: %(summary)s") % {"name": e.name, "summary": say(e.summary)}
            for e in k.experiments
        ]
    lines = [
        # Translators: %(stage)s is a stage in lower case (e.g. "pilot"); %(month)s is YYYY-MM.
        _("Monthly value review of “%(title)s” (%(stage)s), %(month)s.")
        % {
            "title": initiative.title,
            "stage": initiative.get_stage_display().lower(),
            "month": f"{review.month:%Y-%m}",
        },
        _("Recommendation: %(recommendation)s.") % {"recommendation": review.get_recommendation_display()},
        *(say(reason, currency=currency or None) for reason in assessment.reasons),
        _("KPIs:"),
        *kpis,
        # Translators: %(roi)s is a percentage, or "not computable (no cost recorded)"; cost and
        # benefit are amounts of money.
        _("ROI to date: %(roi)s (cost %(cost)s, benefit %(benefit)s).")
        % {
            "roi": roi,
            "cost": format_money(review.cost_to_date, currency or None),
            "benefit": format_money(review.benefit_to_date, currency or None),
        },
    ]
    if any(k.experiments for k in assessment.kpis):
        lines.append(
            _(
                "A/B tests are judged by the always-valid method, on the looks up to the end of the month: "
                "it stays valid however often the committee looks."
            )
        )
    return "\n".join(lines)


def exit_criteria_enforce(*, now: dt.datetime) -> int:
    """Open a retire review when a primary KPI missed its target for the consecutive months the
    business case allows; once per run of misses.

    While another review of the initiative is open, the breach is recorded and the chair told;
    the retire review opens at the first run after that review is decided. Ledger:
    exit_criteria.met, review.opened. Returns the number of breaches recorded plus retire reviews
    opened.
    """
    now = as_utc(now)
    month = month_start(now.date())
    candidates = set()
    for initiative in value_tracked_initiatives():
        inputs = value_inputs(initiative, month=month)
        if exit_criteria_breaches(
            inputs.kpis, inputs.business_case, month=month, experiments=inputs.experiments
        ):
            candidates.add(initiative.pk)
    candidates.update(
        ExitCriteriaBreach.objects.filter(
            review__isnull=True, initiative__stage__in=VALUE_TRACKED_STAGES
        ).values_list("initiative_id", flat=True)
    )
    return sum(_enforce(pk, month, now) for pk in sorted(candidates))


@transaction.atomic
def _enforce(initiative_id: int, month: dt.date, now: dt.datetime) -> int:
    initiative = lock_initiative(initiative_id)
    if initiative.stage not in VALUE_TRACKED_STAGES:
        return 0
    loaded = value_tracked_initiatives([initiative.pk]).get()
    inputs = value_inputs(loaded, month=month)
    kpis = {k.name: k for k in loaded.kpis.all()}
    allowed = inputs.business_case.missed_periods_to_retire if inputs.business_case else None
    new = []
    for breach in exit_criteria_breaches(
        inputs.kpis, inputs.business_case, month=month, experiments=inputs.experiments
    ):
        row, created = ExitCriteriaBreach.objects.get_or_create(
            kpi=kpis[breach.kpi],
            first_missed_period=breach.first_period,
            defaults={"initiative": initiative, "missed_periods": breach.periods, "detected_at": now},
        )
        if created:
            new.append(row)
            ledger_append(
                actor=None,
                action=EXIT_CRITERIA_MET,
                initiative=initiative,
                payload={
                    "breach": row.pk,
                    "kpi": breach.kpi,
                    "first_missed_period": breach.first_period,
                    "missed_periods": breach.periods,
                    "allowed": allowed,
                },
            )
    pending = ExitCriteriaBreach.objects.filter(initiative=initiative, review__isnull=True)
    review, opened = None, False
    if pending.exists():
        open_review = GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN).first()
        if open_review is None:
            rows = list(pending.select_related("kpi"))
            names = sorted({b.kpi.name for b in rows if not b.kpi.is_guardrail})
            guardrails = sorted({b.kpi.name for b in rows if b.kpi.is_guardrail})
            # Codes with parameters: the review says why in each reader's language.
            reasons: list[Param] = []
            if names:
                reasons.append(
                    Reason.of(
                        "review.opened.exit_criteria_met",
                        kpis=Listing(tuple(names), joined_by="comma"),
                        months=allowed or 0,
                    )
                )
            if guardrails:
                reasons.append(
                    Reason.of(
                        "review.opened.guardrail_breached", kpis=Listing(tuple(guardrails), joined_by="comma")
                    )
                )
            review = review_open_by_system(
                initiative=initiative,
                gate=Gate.RETIRE,
                reason=reasons[0]
                if len(reasons) == 1
                else Reason.of("review.opened.reasons", lines=Listing(tuple(reasons), joined_by="sentences")),
                now=now,
            )
            opened = True
        elif open_review.gate == Gate.RETIRE:
            review = open_review
        if review is not None:
            pending.update(review=review)
    if new:
        _notify_breach(initiative, new, review, allowed)
    return len(new) + opened


def _notify_breach(
    initiative, breaches: list[ExitCriteriaBreach], review: GateReview | None, allowed
) -> None:
    open_review = (
        None
        if review is not None
        else GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN).first()
    )
    if review is not None:
        next_step = _("A retire review is open for the committee's decision.")
    elif open_review is not None:
        # Translators: %(gate)s is a gate in lower case, e.g. "scale".
        next_step = _("A retire review will open as soon as the open %(gate)s review is decided.") % {
            "gate": open_review.get_gate_display().lower()
        }
    else:  # the review in the way was decided meanwhile
        next_step = _("A retire review will open at the next run.")
    described = "; ".join(
        (
            # Translators: %(since)s is a month, YYYY-MM.
            _("%(kpi)s, a guardrail, is beyond its non-inferiority margin since %(since)s")
            if b.kpi.is_guardrail
            else ngettext(
                # Translators: %(months)s is a number of months; %(since)s is YYYY-MM.
                "%(kpi)s missed its target %(months)s month in a row since %(since)s",
                "%(kpi)s missed its target %(months)s months in a row since %(since)s",
                b.missed_periods,
            )
        )
        % {"kpi": b.kpi.name, "months": b.missed_periods, "since": f"{b.first_missed_period:%Y-%m}"}
        for b in breaches
    )
    notify(
        recipients=[*members_of([roles.COMMITTEE_CHAIR]), initiative.owner],
        event_key=f"exit-criteria-{initiative.pk}-" + "-".join(str(b.pk) for b in breaches),
        event=NotificationEvent.KPI_MISSED,
        initiative=initiative,
        subject=_("[ValueGate] Exit criteria met: %(title)s") % {"title": initiative.title},
        body=(
            # Translators: %(breaches)s says which KPIs missed their target; %(allowed)s is a number
            # of months; %(criteria)s is the business case's exit criteria as written.
            _("%(breaches)s (the business case allows %(allowed)s). Exit criteria: %(criteria)s")
            % {
                "breaches": described,
                "allowed": allowed,
                "criteria": initiative.business_case.exit_criteria,
            }
            + "\n"
            + next_step
        ),
    )
