"""What a notification is about: one catalogue of events, for people's preferences and webhooks.

The code of an event is what integrations receive as the webhook's `type` and what a person picks
on their preferences page; every webhook's `data` carries COMMON_DATA. Adding an event is adding a
line here and to the catalogue in README.md ("Notifications").
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Every webhook's `data` carries these, whatever the event (the schema published in README.md).
COMMON_DATA = {
    # Translators: OpenAPI description of a webhook field. The leading JSON type ("string:") and
    # the example code (review-12-opened) are best kept as they are.
    "event_key": _("string: what happened, unique per occurrence (e.g. review-12-opened)"),
    # Translators: keep the JSON shape {id: integer, title: string} as it is.
    "initiative": _("object or null: {id: integer, title: string}"),
    "subject": _("string: one line saying what happened"),
    "summary": _("string: the details, several lines"),
    "to_do": _("string: what the recipient should do, empty when nothing"),
    "link": _("string: the admin page to act on (VALUEGATE_BASE_URL)"),
}


class NotificationEvent(models.TextChoices):
    REVIEW_OPENED = "review.opened", _("A gate review was opened and awaits sign-offs")
    SIGNOFF_RECORDED = "signoff.recorded", _("A committee function signed a review")
    SIGNOFF_REMINDER = "signoff.reminder", _("A sign-off is overdue (reminder)")
    SIGNOFF_ESCALATED = "signoff.escalated", _("A sign-off is overdue (escalated to the chair)")
    REVIEW_DECIDED = "review.decided", _("A gate review was decided")
    INITIATIVE_TRANSITIONED = "initiative.transitioned", _("An initiative moved to another stage")
    CONDITION_CLOSED = "condition.closed", _("A condition of an approval was closed")
    VALUE_REVIEW_OPENED = "value_review.opened", _("A monthly value review was opened")
    KPI_OVERDUE = "kpi.overdue", _("KPI measurements are overdue")
    KPI_MISSED = "kpi.missed", _("KPIs missed their target (exit criteria met)")
    PILOT_OVERDUE = "pilot.overdue", _("A pilot is past its time box")
    EXPERIMENT_PLAN_CHANGED = (
        "experiment_plan.changed",
        _("An experiment plan was changed after its data arrived"),
    )
    KPI_SOURCE_FAILED = "kpi_source.failed", _("A KPI could not be measured from its source")
    LEDGER_VERIFICATION_FAILED = "ledger.verification_failed", _("The nightly ledger verification failed")
    LEDGER_CHECKPOINT = "ledger.checkpoint", _("A signed checkpoint of the ledger was published")
    OTHER = "other", _("Other notifications")


# Events a person sees in-app only until they choose a channel for them: a Go already reaches the
# lead as "review decided"; the stage change it made is for integrations and the curious.
IN_APP_ONLY_BY_DEFAULT = frozenset({NotificationEvent.INITIATIVE_TRANSITIONED})
