"""The portfolio: AI initiatives, their business case, KPIs, experiments, money and evidence.

This app knows nothing of committees. An initiative's stage moves only through the transitions
below, and each transition's condition requires a passing gate clearance that the governance
services attach after evaluating the gate; nothing else can produce one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from projects.money import validate_currency
from projects.text import validate_single_line
from projects.vocabulary import Direction, EntryKind, EvidenceKind, Metric, RiskTier, Stage, meets_target


@dataclass(frozen=True)
class GateClearance:
    """Proof, attached by a governance service, that a gate was evaluated and passed.

    `target` is the stage the clearance allows; a clearance for one transition cannot be used
    for another.
    """

    target: str
    passed: bool


def _cleared_for(target: str):
    def condition(initiative: Initiative) -> bool:
        clearance = getattr(initiative, "gate_clearance", None)
        return bool(clearance and clearance.passed and clearance.target == target)

    condition.__name__ = f"gate_cleared_for_{target}"
    return condition


class Initiative(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(max_length=200, validators=[validate_single_line], verbose_name=_("title"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_initiatives",
        help_text=_("The project lead."),
        verbose_name=_("owner"),
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sponsored_initiatives",
        null=True,
        blank=True,
        verbose_name=_("sponsor"),
    )
    department = models.CharField(
        max_length=120, validators=[validate_single_line], verbose_name=_("department")
    )
    pain_point = models.TextField(
        help_text=_("The business pain point this initiative removes."), verbose_name=_("pain point")
    )
    process_embedding = models.TextField(
        help_text=_("The operational process the solution embeds in, and how."),
        verbose_name=_("process embedding"),
    )
    risk_tier = models.CharField(
        max_length=16, choices=RiskTier.choices, default=RiskTier.LIMITED, verbose_name=_("risk tier")
    )
    uses_personal_data = models.BooleanField(default=False, verbose_name=_("uses personal data"))
    stage = FSMField(
        max_length=16,
        choices=Stage.choices,
        default=Stage.DRAFT,
        protected=True,
        db_index=True,
        verbose_name=_("stage"),
    )
    stage_entered_at = models.DateTimeField(default=timezone.now, verbose_name=_("stage entered at"))
    pilot_deadline = models.DateField(null=True, blank=True, verbose_name=_("pilot deadline"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "stage"]),
            # The pilots past their deadline, counted by the dashboard.
            models.Index(fields=["stage", "pilot_deadline"], name="initiative_stage_deadline"),
            # The initiative list's order (newest first), so that a page is read from its top.
            models.Index(fields=["created_at", "id"], name="initiative_by_creation"),
        ]

    def __str__(self) -> str:
        return self.title

    # Transitions. Only governance services call them, after evaluating the gate and attaching
    # a GateClearance. Recycle, hold and kill need no clearance: they never let an initiative
    # advance.

    @transition(
        field=stage, source=Stage.DRAFT, target=Stage.PROPOSAL, conditions=[_cleared_for(Stage.PROPOSAL)]
    )
    def submit(self, *, now) -> None:
        self._entered_stage(now)

    @transition(
        field=stage, source=Stage.PROPOSAL, target=Stage.PILOT, conditions=[_cleared_for(Stage.PILOT)]
    )
    def start_pilot(self, *, now, deadline) -> None:
        self.pilot_deadline = deadline
        self._entered_stage(now)

    @transition(field=stage, source=Stage.PILOT, target=Stage.SCALE, conditions=[_cleared_for(Stage.SCALE)])
    def scale_up(self, *, now) -> None:
        self._entered_stage(now)

    @transition(
        field=stage,
        source=[Stage.PILOT, Stage.SCALE],
        target=Stage.RETIRED,
        conditions=[_cleared_for(Stage.RETIRED)],
    )
    def retire(self, *, now) -> None:
        self._entered_stage(now)

    @transition(field=stage, source=Stage.PILOT, target=Stage.RETIRED)
    def kill_pilot(self, *, now) -> None:
        """Scale gate says Kill: the pilot ends without scaling."""
        self._entered_stage(now)

    @transition(field=stage, source=Stage.PROPOSAL, target=Stage.REJECTED)
    def reject(self, *, now) -> None:
        self._entered_stage(now)

    @transition(field=stage, source=Stage.PROPOSAL, target=Stage.DRAFT)
    def recycle(self, *, now) -> None:
        self._entered_stage(now)

    def _entered_stage(self, now) -> None:
        self.stage_entered_at = now
        self.gate_clearance: GateClearance | None = None


class BusinessCase(models.Model):
    initiative = models.OneToOneField(
        Initiative, on_delete=models.CASCADE, related_name="business_case", verbose_name=_("initiative")
    )
    budget = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(0)], verbose_name=_("budget")
    )
    expected_annual_benefit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        verbose_name=_("expected annual benefit"),
    )
    horizon_months = models.PositiveSmallIntegerField(default=36, verbose_name=_("horizon months"))
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_currency],
        verbose_name=_("currency"),
        help_text=_(
            "ISO 4217 code of the budget, costs and benefits, e.g. CNY or USD. Blank: the deployment's."
        ),
    )
    exit_criteria = models.TextField(
        help_text=_("When the initiative is stopped."), verbose_name=_("exit criteria")
    )
    missed_periods_to_retire = models.PositiveSmallIntegerField(
        default=3,
        help_text=_("Consecutive periods a primary KPI may miss its target before retirement is proposed."),
        verbose_name=_("missed periods to retire"),
    )

    class Meta:
        verbose_name = _("business case")
        verbose_name_plural = _("business cases")
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="business_case_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(expected_annual_benefit__gte=0),
                name="business_case_benefit_not_negative",
            ),
            models.CheckConstraint(condition=Q(horizon_months__gte=1), name="business_case_horizon_positive"),
            models.CheckConstraint(
                condition=Q(missed_periods_to_retire__gte=1),
                name="business_case_missed_periods_positive",
            ),
        ]

    def __str__(self) -> str:
        # Translators: initiative is the initiative's title.
        return gettext("Business case of %(initiative)s") % {"initiative": self.initiative}


KPI_MAX_DIGITS = 20
KPI_DECIMAL_PLACES = 6


class KPI(models.Model):
    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="kpis", verbose_name=_("initiative")
    )
    name = models.CharField(max_length=120, validators=[validate_single_line], verbose_name=_("name"))
    unit = models.CharField(max_length=40, validators=[validate_single_line], verbose_name=_("unit"))
    direction = models.CharField(max_length=8, choices=Direction.choices, verbose_name=_("direction"))
    baseline = models.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, verbose_name=_("baseline")
    )
    target = models.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, verbose_name=_("target")
    )
    data_source = models.CharField(
        max_length=200, validators=[validate_single_line], verbose_name=_("data source")
    )
    is_primary = models.BooleanField(default=True, verbose_name=_("is primary"))
    # A guardrail is a KPI the initiative must not make worse (complaints, brand-tone violations,
    # factual errors): a Go needs it not to degrade beyond its non-inferiority margin.
    is_guardrail = models.BooleanField(
        default=False,
        help_text=_("A KPI that must not degrade beyond its margin; never primary."),
        verbose_name=_("is guardrail"),
    )
    non_inferiority_margin = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text=_(
            "How much worse than its baseline a guardrail may get, in the KPI's unit (a positive number)."
        ),
        verbose_name=_("non-inferiority margin"),
    )

    class Meta:
        verbose_name_plural = _("KPIs")
        verbose_name = _("KPI")
        ordering = ["initiative_id", "-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "name"], name="kpi_name_unique_per_initiative"),
            models.CheckConstraint(
                condition=~Q(target=F("baseline")), name="kpi_target_differs_from_baseline"
            ),
            models.CheckConstraint(
                condition=Q(is_guardrail=False, non_inferiority_margin__isnull=True)
                | Q(is_guardrail=True, is_primary=False, non_inferiority_margin__gt=0),
                name="kpi_guardrail_has_margin_and_is_not_primary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"

    def clean(self) -> None:
        self._clean_guardrail()
        if self.target is None or self.baseline is None:
            return
        if self.target == self.baseline:
            raise ValidationError({"target": gettext("The target must differ from the baseline.")})
        if self.direction == Direction.INCREASE and self.target < self.baseline:
            raise ValidationError(
                {"target": gettext("Higher is better, so the target must exceed the baseline.")}
            )
        if self.direction == Direction.DECREASE and self.target > self.baseline:
            raise ValidationError(
                {"target": gettext("Lower is better, so the target must be below the baseline.")}
            )

    @property
    def margin_text(self) -> str:
        """The non-inferiority margin as its digits are meant ("1.5", not "1.500000"); "" without one."""
        margin = self.non_inferiority_margin
        return "" if margin is None else format(margin.normalize(), "f")

    def _clean_guardrail(self) -> None:
        margin = self.non_inferiority_margin
        if not self.is_guardrail:
            if margin is not None:
                raise ValidationError(
                    {"non_inferiority_margin": gettext("Only a guardrail KPI has a non-inferiority margin.")}
                )
            return
        if self.is_primary:
            raise ValidationError({"is_guardrail": gettext("A guardrail KPI cannot be a primary KPI.")})
        if margin is None:
            raise ValidationError(
                {"non_inferiority_margin": gettext("A guardrail KPI needs a non-inferiority margin.")}
            )
        if not margin.is_finite() or margin <= 0:
            raise ValidationError(
                {"non_inferiority_margin": gettext("The non-inferiority margin must be a positive number.")}
            )

    def meets_target(self, value: Decimal) -> bool:
        return meets_target(self.direction, value, self.target)


class KPIMeasurement(models.Model):
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="measurements", verbose_name=_("kpi"))
    period = models.DateField(help_text=_("First day of the month measured."), verbose_name=_("period"))
    value = models.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, verbose_name=_("value")
    )
    sample_size = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("sample size"))
    source = models.CharField(max_length=200, validators=[validate_single_line], verbose_name=_("source"))
    # Reported by a person (recorded_by), or measured from the KPI's system of record by a
    # connector (reading, which holds the provenance); never both, never neither.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    reading = models.ForeignKey(
        "SourceReading",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measurements",
        verbose_name=_("reading"),
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))

    class Meta:
        verbose_name_plural = _("KPI measurements")
        verbose_name = _("KPI measurement")
        ordering = ["kpi_id", "period"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period"], name="one_measurement_per_kpi_period"),
            models.CheckConstraint(
                condition=Q(recorded_by__isnull=False, reading__isnull=True)
                | Q(recorded_by__isnull=True, reading__isnull=False),
                name="measurement_reported_or_measured",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.name} {self.period:%Y-%m}: {self.value}"

    @property
    def measured_from_source(self) -> bool:
        return self.reading_id is not None


class KPISource(models.Model):
    """Where a KPI is measured from: a connector of the deployment (settings.VALUEGATE_KPI_CONNECTORS)
    and what it reads there: a read-only SQL query, or the name of a CSV file dropped in the
    connector's directory. Either gives one row per month: period (its first day), value and, if
    known, sample size. Only the value room's services write it (governance/value/connectors/);
    the ledger holds every version of the query, so the committee reads what produced a figure.
    """

    kpi = models.OneToOneField(KPI, on_delete=models.CASCADE, related_name="source", verbose_name=_("kpi"))
    connector = models.CharField(max_length=60, verbose_name=_("connector"))
    query = models.TextField(
        help_text=_(
            "SQL connectors: a SELECT returning the columns period, value and optionally sample_size, "
            "one row per month. File connectors: the CSV file's name in the connector's directory, "
            "with the same columns as its header."
        ),
        verbose_name=_("query or file"),
    )
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    registered_at = models.DateTimeField(default=timezone.now, verbose_name=_("registered at"))
    last_read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last read at"))
    # Set by the first failed reading after a good one and cleared by the next good one: the owner
    # is told once per failing spell, never silently left with a gap.
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    # The last failure as a reason (code and parameters, governance/rules/reasons.py), shown in the
    # reader's language; empty while the source reads well.
    last_problem = models.JSONField(default=dict, blank=True, verbose_name=_("last problem"))

    class Meta:
        verbose_name = _("KPI source")
        verbose_name_plural = _("KPI sources")
        ordering = ["kpi_id"]

    def __str__(self) -> str:
        # Translators: %(kpi)s is the KPI's name; %(connector)s the connector's name.
        return gettext("%(kpi)s from %(connector)s") % {"kpi": self.kpi.name, "connector": self.connector}


class SourceReading(models.Model):
    """One successful reading of a KPI source: the provenance of the measurements it recorded."""

    source = models.ForeignKey(
        KPISource, on_delete=models.PROTECT, related_name="readings", verbose_name=_("source")
    )
    connector = models.CharField(max_length=60, verbose_name=_("connector"))
    source_version = models.PositiveIntegerField(verbose_name=_("source version"))
    query_hash = models.CharField(max_length=64, verbose_name=_("query hash (SHA-256)"))
    row_count = models.PositiveIntegerField(verbose_name=_("rows read"))
    result_hash = models.CharField(max_length=64, verbose_name=_("result hash (SHA-256)"))
    read_at = models.DateTimeField(verbose_name=_("read at"))

    class Meta:
        verbose_name = _("source reading")
        verbose_name_plural = _("source readings")
        ordering = ["source_id", "read_at"]

    def __str__(self) -> str:
        # Translators: %(connector)s is a connector's name; %(at)s a date and time.
        return gettext("Reading of %(connector)s at %(at)s") % {
            "connector": self.connector,
            "at": f"{self.read_at:%Y-%m-%d %H:%M}",
        }


class ArmSummary(models.Model):
    """What both arms of an A/B experiment showed: counts, or means and variances.

    Summaries only: ValueGate computes lift and significance itself.
    """

    control_size = models.PositiveIntegerField(verbose_name=_("control size"))
    control_successes = models.PositiveIntegerField(default=0, verbose_name=_("control successes"))
    treatment_size = models.PositiveIntegerField(verbose_name=_("treatment size"))
    treatment_successes = models.PositiveIntegerField(default=0, verbose_name=_("treatment successes"))
    control_mean = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        verbose_name=_("control mean"),
    )
    control_variance = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        verbose_name=_("control variance"),
    )
    treatment_mean = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        verbose_name=_("treatment mean"),
    )
    treatment_variance = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        verbose_name=_("treatment variance"),
    )

    class Meta:
        abstract = True


class Experiment(ArmSummary):
    """An A/B experiment on a KPI; its summary fields hold the latest look."""

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="experiments", verbose_name=_("kpi"))
    name = models.CharField(max_length=200, validators=[validate_single_line], verbose_name=_("name"))
    metric = models.CharField(
        max_length=12, choices=Metric.choices, default=Metric.PROPORTION, verbose_name=_("metric")
    )
    success_definition = models.CharField(
        max_length=200,
        validators=[validate_single_line],
        help_text=_("What counts as a success in both arms, e.g. 'clicked'."),
        verbose_name=_("success definition"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["kpi_id", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_successes__lte=F("control_size")),
                name="experiment_control_successes_within_size",
            ),
            models.CheckConstraint(
                condition=Q(treatment_successes__lte=F("treatment_size")),
                name="experiment_treatment_successes_within_size",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExperimentLook(ArmSummary):
    """One look at an experiment: the cumulative summary on that date, kept so that any verdict
    can be recomputed for any look and audited later."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="looks", verbose_name=_("experiment")
    )
    looked_on = models.DateField(verbose_name=_("looked on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("experiment look")
        verbose_name_plural = _("experiment looks")
        ordering = ["experiment_id", "looked_on"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "looked_on"], name="one_look_per_experiment_day"),
            models.CheckConstraint(
                condition=Q(control_successes__lte=F("control_size")),
                name="look_control_successes_within_size",
            ),
            models.CheckConstraint(
                condition=Q(treatment_successes__lte=F("treatment_size")),
                name="look_treatment_successes_within_size",
            ),
        ]

    def __str__(self) -> str:
        # Translators: "Checkout test on 2025-03-31": an experiment's name and the day of the look.
        return pgettext("experiment look", "%(experiment)s on %(day)s") % {
            "experiment": self.experiment,
            "day": self.looked_on,
        }


class ExperimentPlan(models.Model):
    """The experiment plan of one KPI, registered before its data arrives and pinned in the ledger.

    One per KPI rather than per experiment: an experiment row is created with its first look, so a
    plan kept on it could never come before the data; and the plan's figures (the minimum effect
    in the KPI's unit, the traffic that measures it) belong to the KPI, whichever experiments on it
    the lead records. Every experiment on the KPI is checked against the plan's split. Only the
    value room's services write it (governance/value/plans.py); a change after the first look is
    kept as `changed_after_data` with its reason, and the ledger holds every version.
    """

    kpi = models.OneToOneField(KPI, on_delete=models.CASCADE, related_name="plan", verbose_name=_("kpi"))
    metric = models.CharField(
        max_length=12, choices=Metric.choices, default=Metric.PROPORTION, verbose_name=_("metric")
    )
    baseline = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text=_(
            "The control arm's expected level as the experiment records it (a rate between 0 and 1, "
            "or a mean), when it is not the KPI's baseline; blank: the KPI's baseline."
        ),
        verbose_name=_("baseline"),
    )
    minimum_effect = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        help_text=_(
            "The smallest improvement that matters, a positive number: in the KPI's unit, or in the "
            "plan's baseline's terms when it has one."
        ),
        verbose_name=_("minimum effect"),
    )
    treatment_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.5"),
        help_text=_("Share of the units the treatment arm receives, e.g. 0.5 for a 50/50 split."),
        verbose_name=_("treatment share"),
    )
    planned_looks = models.PositiveSmallIntegerField(
        help_text=_("Monthly looks planned at the experiment's arms."), verbose_name=_("planned looks")
    )
    traffic_per_month = models.PositiveIntegerField(
        help_text=_("Units entering the experiment each month, both arms together."),
        verbose_name=_("traffic per month"),
    )
    standard_deviation = models.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text=_("Of one unit's value, from history (mean KPIs only)."),
        verbose_name=_("standard deviation"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    changed_after_data = models.BooleanField(
        default=False,
        help_text=_("The plan was changed after the experiment's first look."),
        verbose_name=_("changed after data"),
    )
    change_reason = models.TextField(blank=True, verbose_name=_("change reason"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    registered_at = models.DateTimeField(default=timezone.now, verbose_name=_("registered at"))

    class Meta:
        verbose_name = _("experiment plan")
        verbose_name_plural = _("experiment plans")
        ordering = ["kpi_id"]
        constraints = [
            models.CheckConstraint(condition=Q(minimum_effect__gt=0), name="plan_minimum_effect_positive"),
            models.CheckConstraint(
                condition=Q(treatment_share__gt=0, treatment_share__lt=1), name="plan_treatment_share_between"
            ),
            models.CheckConstraint(condition=Q(planned_looks__gte=1), name="plan_looks_positive"),
            models.CheckConstraint(condition=Q(traffic_per_month__gte=1), name="plan_traffic_positive"),
        ]

    def __str__(self) -> str:
        # Translators: %(kpi)s is the KPI's name.
        return gettext("Experiment plan of %(kpi)s") % {"kpi": self.kpi.name}


class FinancialEntry(models.Model):
    """A cost or a realised benefit of one month."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="financial_entries", verbose_name=_("initiative")
    )
    kind = models.CharField(max_length=8, choices=EntryKind.choices, verbose_name=_("kind"))
    month = models.DateField(help_text=_("First day of the month."), verbose_name=_("month"))
    amount = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("amount"))
    description = models.CharField(
        max_length=200, blank=True, validators=[validate_single_line], verbose_name=_("description")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("financial entry")
        verbose_name_plural = _("financial entries")
        ordering = ["initiative_id", "month", "kind"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="financial_entry_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.month:%Y-%m}: {self.amount}"


class Evidence(models.Model):
    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("initiative")
    )
    kind = models.CharField(max_length=32, choices=EvidenceKind.choices, verbose_name=_("kind"))
    title = models.CharField(max_length=200, validators=[validate_single_line], verbose_name=_("title"))
    file = models.FileField(upload_to="evidence/%Y/%m/", verbose_name=_("file"))
    sha256 = models.CharField(max_length=64, editable=False, verbose_name=_("sha256"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(default=timezone.now, verbose_name=_("submitted at"))
    replaces = models.OneToOneField(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text=_(
            "The earlier version this file supersedes. Files are never overwritten: "
            "the earlier version stays on file, as a sign-off may have pinned it."
        ),
        verbose_name=_("replaces"),
    )

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["initiative_id", "submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class InitiativeFigures(models.Model):
    """Running totals of one initiative, kept by the database, read by the portfolio dashboard.

    Triggers installed by migration 0006 keep each row equal to what it summarises: one row per
    initiative (its stage, its business case's budget and currency, the sums of its costs and
    benefits), recomputed from the initiative's own rows on every insert, update and delete of
    them, in the same transaction, whoever writes (services, the admin, bulk loads). So the
    dashboard adds up one narrow row per initiative instead of every financial entry of the
    portfolio. Nothing in Python writes these rows; a second copy of the money kept by code would
    go wrong on the first write path that forgot it. Kept out of `Initiative` itself because a
    full save of an initiative read earlier would write stale totals back.
    """

    initiative = models.OneToOneField(
        Initiative,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="figures",
        verbose_name=_("initiative"),
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, verbose_name=_("stage"))
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0, verbose_name=_("budget"))
    # NULL while the initiative has no business case; "" for a case in the deployment's currency.
    currency = models.CharField(max_length=3, null=True, verbose_name=_("currency"))  # noqa: DJ001 - NULL is "no case"
    cost = models.DecimalField(max_digits=16, decimal_places=2, default=0, verbose_name=_("cost"))
    benefit = models.DecimalField(max_digits=16, decimal_places=2, default=0, verbose_name=_("benefit"))
    kpis_missing_target = models.PositiveIntegerField(default=0, verbose_name=_("KPIs missing target"))

    class Meta:
        verbose_name = _("initiative figures")
        verbose_name_plural = _("initiative figures")
        # The largest investments, read from the top of this index.
        indexes = [models.Index(fields=["cost", "initiative"], name="figures_cost")]

    def __str__(self) -> str:
        return str(self.initiative_id)


class LatestMeasurement(models.Model):
    """The latest measurement of one KPI (its latest period), kept by the database.

    Like `InitiativeFigures`: a row per KPI, maintained by the triggers of migration 0006 on every
    change of the KPI's measurements, so that "which primary KPIs miss their target now" reads one
    row per KPI instead of searching every measurement of the portfolio for the latest.
    """

    kpi = models.OneToOneField(
        KPI, primary_key=True, on_delete=models.CASCADE, related_name="latest", verbose_name=_("kpi")
    )
    period = models.DateField(null=True, verbose_name=_("period"))
    value = models.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, null=True, verbose_name=_("value")
    )
    # A primary KPI whose latest value misses its target (`MISSES_TARGET_LOOKUP`, in SQL).
    misses_target = models.BooleanField(default=False, verbose_name=_("misses target"))

    class Meta:
        verbose_name = _("latest measurement")
        verbose_name_plural = _("latest measurements")
        # The dashboard lists the misses, the oldest first: this index holds only them.
        indexes = [
            models.Index(
                fields=["period", "kpi"], condition=Q(misses_target=True), name="latest_misses_by_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period}: {self.value}"
