"""The committee: functions, gate policies, reviews, sign-offs, conditions, ledger, outbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models import EvidenceKind, Initiative, Stage


class FunctionCode(models.TextChoices):
    BUSINESS = "business", "Business"
    LEGAL = "legal", "Legal"
    FINANCE = "finance", "Finance"
    TECHNICAL = "technical", "Technical"
    RISK_ETHICS = "risk_ethics", "Risk & ethics"


class CommitteeFunction(models.Model):
    """One function at the committee table, backed by the group of its members."""

    code = models.CharField(max_length=16, choices=FunctionCode.choices, unique=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="committee_function")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class Gate(models.TextChoices):
    PILOT = "pilot", "Pilot gate"
    SCALE = "scale", "Scale gate"
    RETIRE = "retire", "Retire gate"


# Which gate each stage faces. A pilot faces the scale gate, or the retire gate when retirement
# is proposed.
GATES_FROM_STAGE: dict[str, tuple[str, ...]] = {
    Stage.PROPOSAL: (Gate.PILOT,),
    Stage.PILOT: (Gate.SCALE, Gate.RETIRE),
    Stage.SCALE: (Gate.RETIRE,),
}


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
        choices=[
            ("always_valid", "Always-valid (stays valid however often the committee looks)"),
            ("fixed_horizon", "Fixed-horizon (valid for one planned look)"),
        ],
        default="always_valid",
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


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class Outcome(models.TextChoices):
    GO = "go", "Go"
    CONDITIONAL_GO = "conditional_go", "Conditional Go"
    KILL = "kill", "Kill"
    RECYCLE = "recycle", "Recycle"
    HOLD = "hold", "Hold"


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


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"


APPROVING_DECISIONS = frozenset({Decision.APPROVE, Decision.APPROVE_WITH_CONDITIONS})


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


class LedgerHead(models.Model):
    """The chain's last sequence number and hash; a single row locked by every append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Ledger head #{self.seq}"


class LedgerEvent(models.Model):
    """One decision, append-only. See governance/ledger.py for the hash chain."""

    seq = models.BigIntegerField(unique=True)
    recorded_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The actor's username when it acted.")
    action = models.CharField(max_length=64, db_index=True)
    initiative = models.ForeignKey(
        Initiative, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_events"
    )
    payload = models.TextField(help_text="Canonical JSON.")
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Ledger events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger events are append-only.")


class Notification(models.Model):
    """Outbox: written in the decision's transaction, fanned out into deliveries after commit.

    Also the person's in-app notification: they see their own on the admin index until read.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=120, help_text="What happened, e.g. review-12-opened.")
    event = models.CharField(
        max_length=40, default="other", help_text="Its kind (governance/notifications/events.py)."
    )
    initiative = models.ForeignKey(
        Initiative, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    to_do = models.TextField(blank=True, help_text="What the recipient should do.")
    link = models.CharField(max_length=500, blank=True, help_text="The admin page where the recipient acts.")
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the relay made its deliveries (governance/notifications)."
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="one_notification_per_recipient_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="notification_undispatched"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


# Background governance: what the periodic jobs did, one row per unique occasion, so that running
# a job twice, or two beat processes running it at once, does nothing more (the unique keys decide,
# not the timing).


class FollowUpKind(models.TextChoices):
    REMINDER = "reminder", "Reminder to the function"
    ESCALATION = "escalation", "Escalation to the chair"


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


class Recommendation(models.TextChoices):
    CONTINUE = "continue", "Continue"
    ADJUST = "adjust", "Adjust"
    ESCALATE = "escalate", "Escalate"
    RETIRE = "retire", "Retire"


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


class Member(User):
    """A user account seen as a holder of governance roles: the admin's people-and-roles pages.

    A proxy, so the roles stay the user's groups and change only through the membership services.
    """

    class Meta:
        proxy = True
        verbose_name = "person and roles"
        verbose_name_plural = "people and roles"


from governance.notifications.models import (  # noqa: E402, F401  (the notifications room's models)
    NotificationDelivery,
    NotificationPreference,
)
