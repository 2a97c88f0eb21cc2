"""The monthly value reviews of initiatives in pilot or at scale."""

from __future__ import annotations

from django.db import models

from projects.models import Initiative
from projects.vocabulary import Recommendation, Stage


class ValueReview(models.Model):
    """The monthly value review of an initiative in pilot or scale: what it delivers, and advice."""

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="value_reviews")
    month = models.DateField(help_text="First day of the month reviewed (UTC).")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    opened_at = models.DateTimeField()
    recommendation = models.CharField(max_length=8, choices=Recommendation.choices)
    reasons = models.JSONField(default=list, help_text="Why this recommendation, one line each.")
    kpi_attainment = models.JSONField(
        default=list, help_text="Per KPI: latest value, target, share of the planned improvement achieved."
    )
    overdue_kpis = models.JSONField(default=list, help_text="KPIs whose last month's measurement is missing.")
    cost_to_date = models.DecimalField(max_digits=16, decimal_places=2)
    benefit_to_date = models.DecimalField(max_digits=16, decimal_places=2)
    roi_to_date = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    projected_roi = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["-month", "initiative_id"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "month"], name="one_value_review_per_month"),
        ]

    def __str__(self) -> str:
        return f"Value review {self.month:%Y-%m} of {self.initiative}: {self.get_recommendation_display()}"
