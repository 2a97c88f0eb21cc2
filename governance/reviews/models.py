"""Gate policies, reviews, sign-offs and their conditions: the reviews room's tables."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from governance.access.models import CommitteeFunction
from projects.models import Initiative
from projects.vocabulary import (
    Decision,
    EvidenceKind,
    ExperimentMethod,
    FunctionCode,
    Gate,
    Outcome,
    ReviewStatus,
)


class GatePolicy(models.Model):
    """One version of the rules of a gate. Never edited: a change is saved as a new version."""

    gate = models.CharField(max_length=8, choices=Gate.choices)
    version = models.PositiveIntegerField()
    required_functions = models.JSONField(
        help_text='Committee functions whose approval the gate needs, e.g. ["business", "legal"].'
    )
    risk_ethics_for_high_risk = models.BooleanField(
        default=True, help_text="High-risk initiatives also need risk & ethics; prohibited never pass."
    )
    requires_business_case = models.BooleanField(default=True)
    requires_primary_kpi = models.BooleanField(default=True)
    required_evidence = models.JSONField(default=list, blank=True)
    personal_data_evidence = models.JSONField(
        default=list, blank=True, help_text="Evidence kinds required when personal data is used."
    )
    min_measurements = models.PositiveSmallIntegerField(
        default=0, help_text="Measurements each primary KPI needs during the pilot (0: not checked)."
    )
    requires_targets_met = models.BooleanField(default=False)
    requires_significant_experiments = models.BooleanField(default=False)
    significance_level = models.DecimalField(max_digits=4, decimal_places=3, default="0.050")
    requires_positive_roi = models.BooleanField(default=False)
    requires_conditions_closed = models.BooleanField(default=False)
    experiment_method = models.CharField(
        max_length=16,
        choices=ExperimentMethod.choices,
        default=ExperimentMethod.ALWAYS_VALID,
        help_text="How A/B experiments are judged at this gate.",
    )
    signoff_validity_days = models.PositiveSmallIntegerField(default=90)
    reminder_days = models.PositiveSmallIntegerField(default=3)
    escalation_days = models.PositiveSmallIntegerField(default=7)
    max_pilot_days = models.PositiveSmallIntegerField(
        default=180, help_text="Time box of the pilot that this gate opens (pilot gate only)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "gate policies"
        ordering = ["gate", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["gate", "version"], name="gate_policy_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_gate_display()} v{self.version}"

    def clean(self) -> None:
        codes = set(FunctionCode.values)
        functions = self.required_functions
        if not isinstance(functions, list) or not functions or not set(functions) <= codes:
            raise ValidationError(
                {"required_functions": f"A non-empty list drawn from: {', '.join(sorted(codes))}."}
            )
        kinds = set(EvidenceKind.values)
        for field in ("required_evidence", "personal_data_evidence"):
            value = getattr(self, field)
            if not isinstance(value, list) or not set(value) <= kinds:
                raise ValidationError({field: f"A list drawn from: {', '.join(sorted(kinds))}."})


class GateReview(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="reviews")
    gate = models.CharField(max_length=8, choices=Gate.choices)
    policy = models.ForeignKey(GatePolicy, on_delete=models.PROTECT, related_name="reviews")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when ValueGate opened the review itself (perpetual pilot, exit criteria).",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True)
    revisit_on = models.DateField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative"],
                condition=Q(status="open"),
                name="one_open_review_per_initiative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gate_display()} of {self.initiative}"

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN


class SignOff(models.Model):
    review = models.ForeignKey(GateReview, on_delete=models.PROTECT, related_name="signoffs")
    function = models.ForeignKey(CommitteeFunction, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signoffs")
    decision = models.CharField(max_length=24, choices=Decision.choices)
    rationale = models.TextField()
    digest = models.CharField(
        max_length=64, help_text="SHA-256 of the evidence and KPI values the reviewer saw."
    )
    signed_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sign-off"
        ordering = ["review_id", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "function"],
                condition=Q(superseded_at__isnull=True),
                name="one_active_signoff_per_function",
            ),
            models.CheckConstraint(condition=~Q(rationale=""), name="signoff_rationale_required"),
        ]

    def __str__(self) -> str:
        return f"{self.function}: {self.get_decision_display()} by {self.reviewer}"


class Condition(models.Model):
    """A condition attached to an approval; it must be closed before the next gate."""

    signoff = models.ForeignKey(SignOff, on_delete=models.PROTECT, related_name="conditions")
    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="conditions")
    text = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closing_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.text[:80]
