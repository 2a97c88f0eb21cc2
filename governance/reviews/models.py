"""Gate policies, reviews, sign-offs and their conditions: the reviews room's tables."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.access.models import CommitteeFunction
from governance.reasons import say_stored
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

    gate = models.CharField(max_length=8, choices=Gate.choices, verbose_name=_("gate"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    required_functions = models.JSONField(
        help_text=_("Committee functions whose approval the gate needs."),
        verbose_name=_("required functions"),
    )
    risk_ethics_for_high_risk = models.BooleanField(
        default=True,
        help_text=_("High-risk initiatives also need risk & ethics; prohibited never pass."),
        verbose_name=_("risk & ethics sign-off for high-risk initiatives"),
    )
    requires_business_case = models.BooleanField(
        default=True,
        help_text=_("The initiative needs a complete business case."),
        verbose_name=_("business case required"),
    )
    requires_primary_kpi = models.BooleanField(
        default=True,
        help_text=_("The initiative needs a primary KPI with its baseline, target, unit and data source."),
        verbose_name=_("primary KPI required"),
    )
    required_evidence = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Evidence kinds the initiative must have submitted."),
        verbose_name=_("required evidence"),
    )
    personal_data_evidence = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Evidence kinds required when personal data is used."),
        verbose_name=_("evidence when personal data is used"),
    )
    min_measurements = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Measurements each primary KPI needs during the pilot (0: not checked)."),
        verbose_name=_("measurements per primary KPI"),
    )
    requires_targets_met = models.BooleanField(
        default=False,
        help_text=_("Each primary KPI's latest measurement must meet its target."),
        verbose_name=_("KPI targets met"),
    )
    requires_significant_experiments = models.BooleanField(
        default=False,
        help_text=_("The A/B experiments must show a significant improvement, and guardrail KPIs must hold."),
        verbose_name=_("significant experiments"),
    )
    significance_level = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default="0.050",
        help_text=_("The chance of a false positive an experiment's test accepts, e.g. 0.050."),
        verbose_name=_("significance level"),
    )
    requires_positive_roi = models.BooleanField(
        default=False,
        help_text=_("The ROI projected over the business case's horizon must be positive."),
        verbose_name=_("positive ROI"),
    )
    requires_conditions_closed = models.BooleanField(
        default=False,
        help_text=_("Every condition attached to an approval of the initiative must be closed."),
        verbose_name=_("conditions closed"),
    )
    experiment_method = models.CharField(
        max_length=16,
        choices=ExperimentMethod.choices,
        default=ExperimentMethod.ALWAYS_VALID,
        help_text=_("How A/B experiments are judged at this gate."),
        verbose_name=_("experiment method"),
    )
    refuses_plan_changed_after_data = models.BooleanField(
        default=False,
        help_text=_(
            "Refuse a Go while an experiment plan was changed after its first look (the change "
            "and its reason are shown either way)."
        ),
        verbose_name=_("refuse a plan changed after its data"),
    )
    requires_experiment_plan = models.BooleanField(
        default=False,
        help_text=_(
            "Each primary KPI's experiment plan must be registered before the pilot starts (pilot gate)."
        ),
        verbose_name=_("experiment plan registered before the pilot"),
    )
    required_power = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=[MinValueValidator(Decimal("0.50")), MaxValueValidator(Decimal("0.99"))],
        help_text=_(
            "The chance a registered plan must give the pilot of showing its minimum effect within "
            "its time box, e.g. 0.80 (pilot gate)."
        ),
        verbose_name=_("required power"),
    )
    requires_measured_from_source = models.BooleanField(
        default=False,
        help_text=_(
            "Each primary KPI's pilot months must be read from its system of record by a connector; "
            "a month reported by the lead refuses the Go."
        ),
        verbose_name=_("primary KPIs measured from source"),
    )
    signoff_validity_days = models.PositiveSmallIntegerField(
        default=90,
        help_text=_("Days an approval counts; after them it must be given again."),
        verbose_name=_("sign-off validity (days)"),
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=3,
        help_text=_("Days a function's sign-off may be awaited before its members are reminded."),
        verbose_name=_("reminder after (days)"),
    )
    escalation_days = models.PositiveSmallIntegerField(
        default=7,
        help_text=_("Days a function's sign-off may be awaited before the chair is told."),
        verbose_name=_("escalation after (days)"),
    )
    max_pilot_days = models.PositiveSmallIntegerField(
        default=180,
        help_text=_("Time box of the pilot that this gate opens (pilot gate only)."),
        verbose_name=_("pilot time box (days)"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("gate policy")
        verbose_name_plural = _("gate policies")
        ordering = ["gate", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["gate", "version"], name="gate_policy_version_unique"),
        ]

    def __str__(self) -> str:
        # Translators: "Pilot gate v3": a gate and the version of its policy.
        return gettext("%(gate)s v%(version)s") % {"gate": self.get_gate_display(), "version": self.version}

    def clean(self) -> None:
        codes = set(FunctionCode.values)
        functions = self.required_functions
        if not isinstance(functions, list) or not functions or not set(functions) <= codes:
            raise ValidationError(
                {
                    # Translators: codes are the committee functions' codes, e.g. "business, finance".
                    "required_functions": gettext("A non-empty list drawn from: %(codes)s.")
                    % {"codes": ", ".join(sorted(codes))}
                }
            )
        kinds = set(EvidenceKind.values)
        for field in ("required_evidence", "personal_data_evidence"):
            value = getattr(self, field)
            if not isinstance(value, list) or not set(value) <= kinds:
                # Translators: codes are evidence kinds' codes, e.g. "business_case, pilot_report".
                message = gettext("A list drawn from: %(codes)s.") % {"codes": ", ".join(sorted(kinds))}
                raise ValidationError({field: message})


class GateReview(models.Model):
    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("initiative")
    )
    gate = models.CharField(max_length=8, choices=Gate.choices, verbose_name=_("gate"))
    policy = models.ForeignKey(
        GatePolicy, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("policy")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when ValueGate opened the review itself (perpetual pilot, exit criteria)."),
        verbose_name=_("requested by"),
    )
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    status = models.CharField(
        max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.OPEN, verbose_name=_("status")
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, verbose_name=_("outcome"))
    outcome_reason = models.TextField(blank=True, verbose_name=_("outcome reason"))
    # ValueGate's own reason as a code (governance/rules/reasons.py), shown in the reader's
    # language; null when a person wrote the reason, or for reviews decided before reasons were codes.
    outcome_reason_code = models.JSONField(null=True, blank=True, editable=False)
    revisit_on = models.DateField(null=True, blank=True, verbose_name=_("revisit on"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("gate review")
        verbose_name_plural = _("gate reviews")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative"],
                condition=Q(status="open"),
                name="one_open_review_per_initiative",
            ),
        ]
        # The open reviews, oldest first: the dashboard's waiting and overdue lists and the
        # queue's pages read from the top of it, however many reviews were ever decided.
        indexes = [
            models.Index(fields=["opened_at", "id"], condition=Q(status="open"), name="open_reviews_by_age"),
        ]

    def __str__(self) -> str:
        # Translators: "Scale gate of Invoice triage": a gate and an initiative's title.
        return gettext("%(gate)s of %(initiative)s") % {
            "gate": self.get_gate_display(),
            "initiative": self.initiative,
        }

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN

    @property
    def outcome_reason_in_words(self) -> str:
        """Why the review was decided, in the reader's language when ValueGate gave the reason."""
        return say_stored(self.outcome_reason_code) if self.outcome_reason_code else self.outcome_reason


class SignOff(models.Model):
    review = models.ForeignKey(
        GateReview, on_delete=models.PROTECT, related_name="signoffs", verbose_name=_("review")
    )
    function = models.ForeignKey(
        CommitteeFunction, on_delete=models.PROTECT, related_name="+", verbose_name=_("function")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signoffs",
        verbose_name=_("reviewer"),
    )
    decision = models.CharField(max_length=24, choices=Decision.choices, verbose_name=_("decision"))
    rationale = models.TextField(verbose_name=_("rationale"))
    digest = models.CharField(
        max_length=64,
        help_text=_("SHA-256 of the evidence and KPI values the reviewer saw."),
        verbose_name=_("digest"),
    )
    signed_at = models.DateTimeField(default=timezone.now, verbose_name=_("signed at"))
    superseded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("superseded at"))

    class Meta:
        verbose_name_plural = _("sign-offs")
        verbose_name = _("sign-off")
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
        # Translators: "Legal: Approve by alice": a committee function, its decision, the reviewer.
        return gettext("%(function)s: %(decision)s by %(reviewer)s") % {
            "function": self.function,
            "decision": self.get_decision_display(),
            "reviewer": self.reviewer,
        }


class Condition(models.Model):
    """A condition attached to an approval; it must be closed before the next gate."""

    signoff = models.ForeignKey(
        SignOff, on_delete=models.PROTECT, related_name="conditions", verbose_name=_("signoff")
    )
    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, related_name="conditions", verbose_name=_("initiative")
    )
    text = models.TextField(verbose_name=_("text"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(verbose_name=_("due on"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closing_note = models.TextField(blank=True, verbose_name=_("closing note"))

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.text[:80]
