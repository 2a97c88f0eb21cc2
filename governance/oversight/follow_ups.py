"""Overdue sign-offs: a reminder to the function, then an escalation to the chair."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.access import roles
from governance.access.models import CommitteeFunction
from governance.errors import WrongStage
from governance.ledger.chain import ledger_append
from governance.ledger.events import SIGNOFF_ESCALATED, SIGNOFF_REMINDED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import members_of, notify
from governance.oversight.calendar import as_utc
from governance.oversight.models import SignOffFollowUp
from governance.reviews.facts import policy_rules
from governance.reviews.models import GateReview, SignOff
from governance.reviews.services import lock_review
from governance.rules.gates import required_functions
from projects.vocabulary import APPROVING_DECISIONS, FollowUpKind, ReviewStatus, function_name

ACTIONS = {FollowUpKind.REMINDER: SIGNOFF_REMINDED, FollowUpKind.ESCALATION: SIGNOFF_ESCALATED}


def awaited_functions(review: GateReview, active: list[SignOff], now: dt.datetime) -> list[str]:
    """Required functions with no active sign-off, or whose approval has expired."""
    policy = review.policy
    signed = {
        s.function.code
        for s in active
        if s.decision not in APPROVING_DECISIONS
        or now <= s.signed_at + dt.timedelta(days=policy.signoff_validity_days)
    }
    return [
        f for f in required_functions(policy_rules(policy), review.initiative.risk_tier) if f not in signed
    ]


def overdue_signoffs_chase(*, now: dt.datetime) -> int:
    """Remind each function whose sign-off has been awaited for the policy's reminder days, and
    escalate to the chair after its escalation days, once each per review and function.

    Days count from the review's opening, in UTC. Ledger: signoff.reminded, signoff.escalated
    (actor "system"). Returns the number of follow-ups made.
    """
    now = as_utc(now)
    candidates = (
        GateReview.objects.filter(status=ReviewStatus.OPEN).order_by("id").values_list("pk", flat=True)
    )
    return sum(_chase(review_id, now) for review_id in list(candidates))


@transaction.atomic
def _chase(review_id: int, now: dt.datetime) -> int:
    try:
        initiative, review = lock_review(review_id)
    except WrongStage:  # decided meanwhile, or the initiative moved on
        return 0
    review.initiative = initiative
    active = list(
        SignOff.objects.filter(review=review, superseded_at__isnull=True).select_related("function")
    )
    awaited = awaited_functions(review, active, now)
    if not awaited:
        return 0
    functions = {f.code: f for f in CommitteeFunction.objects.filter(code__in=awaited)}
    waiting = now - review.opened_at
    made = 0
    for kind, days in (
        (FollowUpKind.REMINDER, review.policy.reminder_days),
        (FollowUpKind.ESCALATION, review.policy.escalation_days),
    ):
        if waiting < dt.timedelta(days=days):
            continue
        new = []
        for code in awaited:
            # The unique key decides, not the clock: a second run, or a concurrent one, finds the row.
            _, created = SignOffFollowUp.objects.get_or_create(
                review=review, function=functions[code], kind=kind, defaults={"sent_at": now}
            )
            if created:
                new.append(code)
        if not new:
            continue
        ledger_append(
            actor=None,
            action=ACTIONS[kind],
            initiative=initiative,
            payload={
                "review": review.pk,
                "gate": review.gate,
                "functions": new,
                "days_waiting": waiting.days,
                "policy_days": days,
            },
        )
        if kind == FollowUpKind.REMINDER:
            _remind(review, initiative, new, waiting)
        else:
            _escalate(review, initiative, new, waiting)
        made += len(new)
    return made


def _remind(review: GateReview, initiative, functions: list[str], waiting: dt.timedelta) -> None:
    for code in functions:
        _remind_function(review, initiative, code, waiting)


def _remind_function(review: GateReview, initiative, code: str, waiting: dt.timedelta) -> None:
    """The members of one awaited function hear that the review waits for them, in their words."""
    policy = review.policy
    notify(
        recipients=members_of([roles.FUNCTION_GROUPS[code]]),
        event_key=f"review-{review.pk}-{code}-reminder",
        event=NotificationEvent.SIGNOFF_REMINDER,
        initiative=initiative,
        about=review,
        # Translators: %(function)s is a committee function in lower case, e.g. "legal".
        to_do=lambda: (
            _("Sign off for %(function)s, or ask a colleague of your function to.")
            % {"function": function_name(code)}
        ),
        # Translators: %(gate)s is a gate in lower case (e.g. "scale"); %(function)s a committee
        # function in lower case (e.g. "legal").
        subject=lambda: (
            _("[ValueGate] Reminder: the %(gate)s of %(title)s awaits the %(function)s sign-off")
            % {
                "gate": review.get_gate_display().lower(),
                "title": initiative.title,
                "function": function_name(code),
            }
        ),
        body=lambda: (
            ngettext(
                # Translators: %(opened)s is a date, YYYY-MM-DD; %(days)s a number of days; %(function)s
                # a committee function in lower case; %(reminder_days)s and %(escalation_days)s are
                # numbers of days with their unit, e.g. "3 days".
                "The review opened on %(opened)s and has waited %(days)s day for a %(function)s "
                "sign-off. The policy asks for it within %(reminder_days)s; after "
                "%(escalation_days)s the chair is told.",
                "The review opened on %(opened)s and has waited %(days)s days for a %(function)s "
                "sign-off. The policy asks for it within %(reminder_days)s; after "
                "%(escalation_days)s the chair is told.",
                waiting.days,
            )
            % {
                "opened": f"{timezone.localtime(review.opened_at):%Y-%m-%d}",
                "days": waiting.days,
                "function": function_name(code),
                "reminder_days": _days(policy.reminder_days),
                "escalation_days": _days(policy.escalation_days),
            }
        ),
    )


def _escalate(review: GateReview, initiative, functions: list[str], waiting: dt.timedelta) -> None:
    def names() -> str:
        return pgettext("between the words of a list", ", ").join(function_name(f) for f in functions)

    notify(
        recipients=members_of([roles.COMMITTEE_CHAIR]),
        event_key=f"review-{review.pk}-escalated-{'-'.join(functions)}",
        event=NotificationEvent.SIGNOFF_ESCALATED,
        initiative=initiative,
        about=review,
        to_do=lambda: _("Chase the functions named, or decide Hold with a reason and a revisit date."),
        # Translators: %(functions)s lists committee functions, e.g. "legal, security".
        subject=lambda: (
            _("[ValueGate] Overdue sign-offs on %(title)s: %(functions)s")
            % {"title": initiative.title, "functions": names()}
        ),
        body=lambda: (
            ngettext(
                # Translators: %(gate)s is a gate in lower case (e.g. "scale"); %(opened)s a date,
                # YYYY-MM-DD; %(days)s a number of days; %(functions)s lists committee functions;
                # %(escalation_days)s is a number of days with its unit, e.g. "7 days".
                "The %(gate)s of “%(title)s” opened on %(opened)s and has waited %(days)s day for: "
                "%(functions)s. The policy escalates after %(escalation_days)s.",
                "The %(gate)s of “%(title)s” opened on %(opened)s and has waited %(days)s days for: "
                "%(functions)s. The policy escalates after %(escalation_days)s.",
                waiting.days,
            )
            % {
                "gate": review.get_gate_display().lower(),
                "title": initiative.title,
                "opened": f"{timezone.localtime(review.opened_at):%Y-%m-%d}",
                "days": waiting.days,
                "functions": names(),
                "escalation_days": _days(review.policy.escalation_days),
            }
        ),
    )


def _days(count: int) -> str:
    """A number of days with its unit ("1 day", "7 days")."""
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
