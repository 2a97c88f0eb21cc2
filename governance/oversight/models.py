"""What the periodic jobs did, one row per unique occasion, so that running a job twice, or
two beat processes running it at once, does nothing more (the unique keys decide, not the timing)."""

from __future__ import annotations

from django.db import models

from governance.access.models import CommitteeFunction
from governance.reviews.models import GateReview
from projects.models import Initiative
from projects.vocabulary import FollowUpKind


class SignOffFollowUp(models.Model):
    """A reminder or an escalation about a function's overdue sign-off: at most one of each."""

    review = models.ForeignKey(GateReview, on_delete=models.PROTECT, related_name="follow_ups")
    function = models.ForeignKey(CommitteeFunction, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=FollowUpKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = "sign-off follow-up"
        ordering = ["review_id", "sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "function", "kind"], name="one_follow_up_per_review_function_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.function} on review {self.review_id}"


class PilotEscalation(models.Model):
    """A pilot found past its time box: flagged once per deadline, the chair told."""

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="pilot_escalations")
    deadline = models.DateField()
    escalated_at = models.DateTimeField()
    review = models.ForeignKey(
        GateReview,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The scale-or-kill review opened, or the review that was already open.",
    )

    class Meta:
        ordering = ["-escalated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "deadline"], name="one_escalation_per_pilot_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative} past its pilot deadline {self.deadline}"


class ExitCriteriaBreach(models.Model):
    """A primary KPI missed its target for the consecutive periods the business case allows.

    One row per run of misses (keyed by its first missed month), so one retire review per run;
    the review stays empty while another review of the initiative is open.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="exit_breaches")
    kpi = models.ForeignKey("projects.KPI", on_delete=models.PROTECT, related_name="+")
    first_missed_period = models.DateField()
    missed_periods = models.PositiveSmallIntegerField()
    detected_at = models.DateTimeField()
    review = models.ForeignKey(GateReview, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name_plural = "exit criteria breaches"
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "first_missed_period"], name="one_breach_per_run_of_misses"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} missed its target from {self.first_missed_period:%Y-%m}"
