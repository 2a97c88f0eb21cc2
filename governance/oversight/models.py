"""What the periodic jobs did, one row per unique occasion, so that running a job twice, or
two beat processes running it at once, does nothing more (the unique keys decide, not the timing)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.access.models import CommitteeFunction
from governance.reviews.models import GateReview
from projects.models import Initiative
from projects.vocabulary import FollowUpKind


class SignOffFollowUp(models.Model):
    """A reminder or an escalation about a function's overdue sign-off: at most one of each."""

    review = models.ForeignKey(
        GateReview, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("review")
    )
    function = models.ForeignKey(
        CommitteeFunction, on_delete=models.PROTECT, related_name="+", verbose_name=_("function")
    )
    kind = models.CharField(max_length=12, choices=FollowUpKind.choices, verbose_name=_("kind"))
    sent_at = models.DateTimeField(verbose_name=_("sent at"))

    class Meta:
        verbose_name_plural = _("sign-off follow-ups")
        verbose_name = _("sign-off follow-up")
        ordering = ["review_id", "sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "function", "kind"], name="one_follow_up_per_review_function_kind"
            ),
        ]

    def __str__(self) -> str:
        # Translators: "Reminder to the function: Legal on review 12".
        return gettext("%(kind)s: %(function)s on review %(review)s") % {
            "kind": self.get_kind_display(),
            "function": self.function,
            "review": self.review_id,
        }


class PilotEscalation(models.Model):
    """A pilot found past its time box: flagged once per deadline, the chair told."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, related_name="pilot_escalations", verbose_name=_("initiative")
    )
    deadline = models.DateField(verbose_name=_("deadline"))
    escalated_at = models.DateTimeField(verbose_name=_("escalated at"))
    review = models.ForeignKey(
        GateReview,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The scale-or-kill review opened, or the review that was already open."),
        verbose_name=_("review"),
    )

    class Meta:
        verbose_name = _("pilot escalation")
        verbose_name_plural = _("pilot escalations")
        ordering = ["-escalated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "deadline"], name="one_escalation_per_pilot_deadline"
            ),
        ]

    def __str__(self) -> str:
        # Translators: an initiative's title, then the pilot's deadline, written 2025-03-31.
        return gettext("%(initiative)s past its pilot deadline %(deadline)s") % {
            "initiative": self.initiative,
            "deadline": self.deadline,
        }


class ExitCriteriaBreach(models.Model):
    """A primary KPI missed its target for the consecutive periods the business case allows.

    One row per run of misses (keyed by its first missed month), so one retire review per run;
    the review stays empty while another review of the initiative is open.
    """

    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, related_name="exit_breaches", verbose_name=_("initiative")
    )
    kpi = models.ForeignKey("projects.KPI", on_delete=models.PROTECT, related_name="+", verbose_name=_("kpi"))
    first_missed_period = models.DateField(verbose_name=_("first missed period"))
    missed_periods = models.PositiveSmallIntegerField(verbose_name=_("missed periods"))
    detected_at = models.DateTimeField(verbose_name=_("detected at"))
    review = models.ForeignKey(
        GateReview,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("review"),
    )

    class Meta:
        verbose_name = _("exit criteria breach")
        verbose_name_plural = _("exit criteria breaches")
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "first_missed_period"], name="one_breach_per_run_of_misses"
            ),
        ]

    def __str__(self) -> str:
        # Translators: a KPI ("Handling time (min)"), then the first month it missed, written 2025-03.
        return gettext("%(kpi)s missed its target from %(month)s") % {
            "kpi": self.kpi,
            "month": f"{self.first_missed_period:%Y-%m}",
        }
