"""Perpetual pilots: a pilot past its time box is flagged, the chair told, a scale-or-kill review opened."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.access import roles
from governance.access.checks import lock_initiative
from governance.ledger.chain import ledger_append
from governance.ledger.events import PILOT_ESCALATED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notify
from governance.oversight.calendar import as_utc
from governance.oversight.models import PilotEscalation
from governance.reviews.models import GateReview
from governance.reviews.services import review_open_by_system
from governance.rules.reasons import Reason
from projects.models import Initiative
from projects.vocabulary import Gate, ReviewStatus, Stage


def perpetual_pilots_escalate(*, now: dt.datetime) -> int:
    """Escalate each pilot whose deadline (a UTC date) has passed, once per deadline.

    With no review open, a scale-gate review is opened by ValueGate (Go scales, Kill retires);
    with one open, the pilot is only flagged and the chair told. Ledger: pilot.escalated, then
    review.opened. Returns the number of pilots escalated.
    """
    today = as_utc(now).date()
    escalated = PilotEscalation.objects.filter(initiative=OuterRef("pk"), deadline=OuterRef("pilot_deadline"))
    candidates = (
        Initiative.objects.filter(stage=Stage.PILOT, pilot_deadline__lt=today)
        .exclude(Exists(escalated))
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return sum(_escalate(pk, as_utc(now)) for pk in list(candidates))


@transaction.atomic
def _escalate(initiative_id: int, now: dt.datetime) -> bool:
    initiative = lock_initiative(initiative_id)
    deadline = initiative.pilot_deadline
    if initiative.stage != Stage.PILOT or deadline is None or deadline >= now.date():
        return False
    escalation, created = PilotEscalation.objects.get_or_create(
        initiative=initiative, deadline=deadline, defaults={"escalated_at": now}
    )
    if not created:
        return False
    open_review = GateReview.objects.filter(initiative=initiative, status=ReviewStatus.OPEN).first()
    days_over = (now.date() - deadline).days
    ledger_append(
        actor=None,
        action=PILOT_ESCALATED,
        initiative=initiative,
        payload={
            "deadline": deadline,
            "days_over": days_over,
            "open_review": open_review.pk if open_review else None,
            "opens_scale_review": open_review is None,
        },
    )
    if open_review is None:
        escalation.review = review_open_by_system(
            initiative=initiative,
            gate=Gate.SCALE,
            reason=Reason.of("review.opened.pilot_overdue", deadline=f"{deadline:%Y-%m-%d}", days=days_over),
            now=now,
        )

        def next_step() -> str:
            return _("A scale-or-kill review was opened: Go scales the initiative, Kill ends the pilot.")
    else:
        escalation.review = open_review

        def next_step() -> str:
            # Translators: %(gate)s is a gate in lower case (e.g. "scale"); %(opened)s a date, YYYY-MM-DD.
            return _("Its %(gate)s review, open since %(opened)s, is still undecided.") % {
                "gate": open_review.get_gate_display().lower(),
                "opened": f"{timezone.localtime(open_review.opened_at):%Y-%m-%d}",
            }

    escalation.save(update_fields=["review"])
    notify(
        recipients=[*members_of([roles.COMMITTEE_CHAIR]), initiative.owner],
        event_key=f"pilot-{initiative.pk}-overdue-{deadline:%Y%m%d}",
        event=NotificationEvent.PILOT_OVERDUE,
        initiative=initiative,
        about=escalation.review,
        to_do=lambda: _("Decide the review: Go scales the initiative, Kill ends the pilot."),
        subject=lambda: (
            ngettext(
                "[ValueGate] Perpetual pilot: %(title)s is %(days)s day past its deadline",
                "[ValueGate] Perpetual pilot: %(title)s is %(days)s days past its deadline",
                days_over,
            )
            % {"title": initiative.title, "days": days_over}
        ),
        # Translators: %(deadline)s is a date (YYYY-MM-DD); %(next_step)s one more sentence.
        body=lambda: (
            _("The pilot of “%(title)s” was due to end on %(deadline)s. %(next_step)s")
            % {"title": initiative.title, "deadline": f"{deadline:%Y-%m-%d}", "next_step": next_step()}
        ),
    )
    return True
