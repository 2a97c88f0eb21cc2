"""The monthly value reviews of initiatives in pilot or at scale."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.models import Initiative
from projects.vocabulary import Recommendation, Stage


class ValueReview(models.Model):
    """The monthly value review of an initiative in pilot or scale: what it delivers, and advice."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, related_name="value_reviews", verbose_name=_("initiative")
    )
    month = models.DateField(help_text=_("First day of the month reviewed (UTC)."), verbose_name=_("month"))
    stage = models.CharField(max_length=16, choices=Stage.choices, verbose_name=_("stage"))
    opened_at = models.DateTimeField(verbose_name=_("opened at"))
    recommendation = models.CharField(
        max_length=8, choices=Recommendation.choices, verbose_name=_("recommendation")
    )
    reasons = models.JSONField(
        default=list, help_text=_("Why this recommendation, one line each."), verbose_name=_("reasons")
    )
    # The same reasons as codes with parameters (governance/rules/reasons.py), shown in the
    # reader's language; empty for reviews opened before reasons were codes.
    reason_codes = models.JSONField(default=list, blank=True, editable=False)
    kpi_attainment = models.JSONField(
        default=list,
        help_text=_("Per KPI: latest value, target, share of the planned improvement achieved."),
        verbose_name=_("kpi attainment"),
    )
    overdue_kpis = models.JSONField(
        default=list,
        help_text=_("KPIs whose last month's measurement is missing."),
        verbose_name=_("overdue kpis"),
    )
    cost_to_date = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("cost to date"))
    benefit_to_date = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("benefit to date"))
    roi_to_date = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, verbose_name=_("roi to date")
    )
    projected_roi = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, verbose_name=_("projected roi")
    )

    class Meta:
        verbose_name = _("value review")
        verbose_name_plural = _("value reviews")
        ordering = ["-month", "initiative_id"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "month"], name="one_value_review_per_month"),
        ]

    def __str__(self) -> str:
        # Translators: "Value review 2025-03 of Invoice triage: Continue": the month, the initiative's
        # title and the recommendation.
        return gettext("Value review %(month)s of %(initiative)s: %(recommendation)s") % {
            "month": f"{self.month:%Y-%m}",
            "initiative": self.initiative,
            "recommendation": self.get_recommendation_display(),
        }
