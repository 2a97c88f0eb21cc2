"""Serializers: what each endpoint accepts (strictly) and returns.

They validate shape and types only; the services decide what is allowed and record it.
Read-only fields (stage, owner, hashes, computed statistics, ledger fields) are refused when sent.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import TYPE_CHECKING

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from governance.api.exceptions import RowErrors
from governance.api.fields import (
    SMALLINT_MAX,
    DecimalValueField,
    IsoDateField,
    SingleLineField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    UsernameField,
    date_problem,
    decimal_or_problem,
    integer_problem,
    text_problem,
)
from governance.api.schema import REASON_CODE_SCHEMA
from governance.ledger.canonical import utc_text
from governance.reasons import say, say_stored
from governance.rules.gates import ExperimentVerdict
from governance.rules.reasons import Reason
from governance.value.services import MeasurementInput
from projects.models import KPI_DECIMAL_PLACES, KPI_MAX_DIGITS
from projects.statistics import TwoProportionResult
from projects.vocabulary import (
    Decision,
    Direction,
    EntryKind,
    EvidenceKind,
    ExperimentMethod,
    FunctionCode,
    Gate,
    Metric,
    RiskTier,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TEXT_MAX = 5000
MAX_MEASUREMENTS = 10_000
MAX_CONDITIONS = 20

# Why a field cannot be sent: each completes "Read-only: …".
STAGE_REASON = _("an initiative's stage moves only through its gates.")


# Initiatives --------------------------------------------------------------------------------


class InitiativeSerializer(StrictSerializer):
    read_only_reasons = {
        "stage": STAGE_REASON,
        "owner": _("the project lead who registers an initiative owns it."),
    }

    id = serializers.IntegerField(read_only=True)
    title = SingleLineField(max_length=200)
    department = SingleLineField(max_length=120)
    pain_point = StrictCharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    process_embedding = StrictCharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    risk_tier = StrictChoiceField(choices=RiskTier.values, required=False, default=RiskTier.LIMITED)
    uses_personal_data = StrictBooleanField(required=False, default=False)
    sponsor = UsernameField(required=False, allow_null=True, default=None)
    owner = serializers.CharField(source="owner.username", read_only=True)
    stage = serializers.CharField(read_only=True)
    stage_entered_at = serializers.DateTimeField(read_only=True)
    pilot_deadline = serializers.DateField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class BusinessCaseSerializer(StrictSerializer):
    budget = DecimalValueField(what=_("Budget"), max_digits=14, decimal_places=2)
    expected_annual_benefit = DecimalValueField(
        what=_("Expected annual benefit"), max_digits=14, decimal_places=2
    )
    horizon_months = StrictIntegerField(min_value=1, max_value=SMALLINT_MAX, required=False, default=36)
    exit_criteria = StrictCharField(max_length=TEXT_MAX)
    missed_periods_to_retire = StrictIntegerField(
        min_value=1, max_value=SMALLINT_MAX, required=False, default=3
    )
    currency = StrictCharField(
        max_length=3,
        required=False,
        default="",
        allow_blank=True,
        help_text=_(
            "ISO 4217 code of the budget, costs and benefits, e.g. CNY or USD. Blank: the deployment's."
        ),
    )


class KPISerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    name = SingleLineField(max_length=120)
    unit = SingleLineField(max_length=40)
    direction = StrictChoiceField(choices=Direction.values)
    baseline = DecimalValueField(
        what=_("Baseline"), max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES
    )
    target = DecimalValueField(what=_("Target"), max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES)
    data_source = SingleLineField(max_length=200)
    is_primary = StrictBooleanField(required=False, default=True)
    is_guardrail = StrictBooleanField(
        required=False,
        default=False,
        help_text=_("A KPI that must not degrade beyond its non-inferiority margin; never primary."),
    )
    non_inferiority_margin = DecimalValueField(
        what=_("Non-inferiority margin"),
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "How much worse than its baseline a guardrail may get, in the KPI's unit; required for a guardrail."
        ),
    )


# Measurements: parsed row by row, fast enough for 10,000 rows, every bad row named -------------


@extend_schema_serializer(
    description=_(
        "One measurement (documents the row; the batch field parses rows without a serializer each)."
    )
)
class MeasurementRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text=_("First day of the month measured, YYYY-MM-DD."))
    value = DecimalValueField(what=_("Value"), max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES)
    sample_size = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2_147_483_647
    )
    # A declared field: the serializer's metaclass takes it out of the class, so it does not
    # replace Field.source, which the stubs cannot tell.
    source = serializers.CharField(max_length=200)  # type: ignore[assignment]


class ReadingSerializer(serializers.Serializer):
    connector = serializers.CharField(read_only=True)
    source_version = serializers.IntegerField(read_only=True)
    query_hash = serializers.CharField(read_only=True, help_text=_("SHA-256 of the query's text, hex."))
    row_count = serializers.IntegerField(read_only=True)
    result_hash = serializers.CharField(read_only=True, help_text=_("SHA-256 of the rows as read, hex."))
    read_at = serializers.DateTimeField(read_only=True)


class MeasurementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    period = serializers.DateField(read_only=True)
    value = serializers.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, read_only=True
    )
    sample_size = serializers.IntegerField(read_only=True, allow_null=True)
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a declared field, as above
    recorded_by = serializers.CharField(
        source="recorded_by.username",
        read_only=True,
        allow_null=True,
        help_text=_("Who reported it; null when it was measured from the KPI's source."),
    )
    recorded_at = serializers.DateTimeField(read_only=True)
    measured_from_source = serializers.BooleanField(
        read_only=True, help_text=_("Read from the KPI's system of record by a connector, not reported.")
    )
    provenance = ReadingSerializer(
        source="reading",
        read_only=True,
        allow_null=True,
        help_text=_("The reading it came from; null when reported."),
    )


ROW_KEYS = frozenset({"period", "value", "sample_size", "source"})
ROW_REQUIRED = ("period", "value", "source")


def parse_measurement_row(row: object) -> tuple[MeasurementInput | None, str | None]:
    if not isinstance(row, dict):
        return None, gettext("Each measurement must be an object.")
    unknown = row.keys() - ROW_KEYS
    if unknown:
        # Translators: %(fields)s lists the field names sent (not to be translated).
        message = ngettext("Unknown field: %(fields)s.", "Unknown fields: %(fields)s.", len(unknown))
        return None, message % {"fields": ", ".join(sorted(str(k)[:40] for k in unknown))}
    missing = [k for k in ROW_REQUIRED if k not in row]
    if missing:
        # Translators: %(fields)s lists the field names missing (not to be translated).
        return None, gettext("Missing: %(fields)s.") % {"fields": ", ".join(missing)}
    period, problem = date_problem(row["period"])
    if problem or period is None:
        # Translators: %(problem)s says what is wrong with the measurement's period.
        return None, gettext("Period: %(problem)s") % {"problem": problem}
    value, problem = decimal_or_problem(
        row["value"], what=gettext("Value"), max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES
    )
    if problem:
        return None, problem
    sample_size = row.get("sample_size")
    if sample_size is not None:
        problem = integer_problem(sample_size, min_value=0, max_value=2_147_483_647)
        if problem:
            # Translators: %(problem)s says what is wrong with the measurement's sample size.
            return None, gettext("Sample size: %(problem)s") % {"problem": problem}
    problem = text_problem(row["source"], max_length=200)
    if problem:
        # Translators: %(problem)s says what is wrong with the measurement's source.
        return None, gettext("Source: %(problem)s") % {"problem": problem}
    return MeasurementInput(period=period, value=value, source=row["source"], sample_size=sample_size), None


@extend_schema_field(MeasurementRowSerializer(many=True))
class MeasurementRowsField(serializers.Field):
    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(gettext("Must be an array of measurements."))
        if not data:
            raise serializers.ValidationError(gettext("Send at least one measurement."))
        if len(data) > MAX_MEASUREMENTS:
            # Translators: %(limit)s and %(count)s are numbers of measurements, written as digits only.
            message = gettext("At most %(limit)s measurements per request (got %(count)s); split the batch.")
            raise serializers.ValidationError(message % {"limit": MAX_MEASUREMENTS, "count": len(data)})
        rows, errors = [], {}
        for index, row in enumerate(data):
            parsed, problem = parse_measurement_row(row)
            if problem:
                errors[index] = problem
            else:
                rows.append(parsed)
        if errors:
            raise RowErrors(errors)
        return rows


class MeasurementBatchSerializer(StrictSerializer):
    measurements = MeasurementRowsField()


class MeasurementBatchResultSerializer(serializers.Serializer):
    kpi = serializers.IntegerField()
    recorded = serializers.IntegerField()
    first_period = serializers.DateField()
    last_period = serializers.DateField()


# Experiments ----------------------------------------------------------------------------------

COMPUTED = _("ValueGate computes it from the figures sent; the committee does not take it on trust.")
COUNTED = _("ValueGate counts the looks recorded at …/experiments/{id}/looks/.")
FIELDS_OF_METRIC: dict[str, tuple[str, ...]] = {
    Metric.PROPORTION: ("control_successes", "treatment_successes"),
    Metric.MEAN: ("control_mean", "control_variance", "treatment_mean", "treatment_variance"),
}
OTHER_METRIC: dict[str, str] = {Metric.PROPORTION: Metric.MEAN, Metric.MEAN: Metric.PROPORTION}
# Why a field of the other metric is refused, by the metric of the experiment it was sent for.
NOT_THIS_METRIC: dict[str, StrOrPromise] = {
    # Translators: "mean" in quotes is a code of the API, not to be translated.
    Metric.PROPORTION: _(
        'Only for an experiment on means (metric "mean"); '
        "an experiment on a proportion sends each arm's successes."
    ),
    # Translators: "proportion" in quotes is a code of the API, not to be translated.
    Metric.MEAN: _(
        'Only for an experiment on a proportion (metric "proportion"); '
        "an experiment on means sends each arm's mean and variance."
    ),
}
KPI_NUMBER = {"max_digits": KPI_MAX_DIGITS, "decimal_places": KPI_DECIMAL_PLACES}


class FiniteFloatField(serializers.FloatField):
    """A computed bound that may still be infinite (too little spread in the data to bound it):
    JSON has no infinity, so it is shown as null."""

    def to_representation(self, value):
        value = float(value)
        return value if math.isfinite(value) else None


@extend_schema_serializer(
    description=_(
        "Both arms' cumulative figures at one look: successes for a proportion; mean and sample\n"
        "variance for a mean (a time or an amount). The other metric's fields are refused when sent\n"
        "and null when shown."
    )
)
class ArmSummarySerializer(StrictSerializer):
    control_size = StrictIntegerField(min_value=1, help_text=_("Observations in the control arm so far."))
    control_successes = StrictIntegerField(
        required=False,
        allow_null=True,
        help_text=_(
            "Proportions only (required there): successes in the control arm so far. "
            "Null for an experiment on means."
        ),
    )
    treatment_size = StrictIntegerField(min_value=1, help_text=_("Observations in the treatment arm so far."))
    treatment_successes = StrictIntegerField(
        required=False,
        allow_null=True,
        help_text=_(
            "Proportions only (required there): successes in the treatment arm so far. "
            "Null for an experiment on means."
        ),
    )
    control_mean = DecimalValueField(
        what=_("Control mean"),
        required=False,
        allow_null=True,
        help_text=_("Means only (required there): the control arm's mean so far. Null for a proportion."),
        **KPI_NUMBER,
    )
    control_variance = DecimalValueField(
        what=_("Control variance"),
        required=False,
        allow_null=True,
        help_text=_(
            "Means only (required there): the control arm's sample variance so far, not negative. "
            "Null for a proportion."
        ),
        **KPI_NUMBER,
    )
    treatment_mean = DecimalValueField(
        what=_("Treatment mean"),
        required=False,
        allow_null=True,
        help_text=_("Means only (required there): the treatment arm's mean so far. Null for a proportion."),
        **KPI_NUMBER,
    )
    treatment_variance = DecimalValueField(
        what=_("Treatment variance"),
        required=False,
        allow_null=True,
        help_text=_(
            "Means only (required there): the treatment arm's sample variance so far, not negative. "
            "Null for a proportion."
        ),
        **KPI_NUMBER,
    )

    def metric_sent(self, attrs: dict) -> str:
        raise NotImplementedError

    def metric_shown(self, instance) -> str:
        raise NotImplementedError

    def validate(self, attrs):
        metric = self.metric_sent(attrs)
        errors = {
            name: [NOT_THIS_METRIC[metric]]
            for name in FIELDS_OF_METRIC[OTHER_METRIC[metric]]
            if name in attrs
        }
        for name in FIELDS_OF_METRIC[metric]:
            if name not in attrs:
                errors[name] = [gettext("This field is required.")]
            elif attrs[name] is None:
                errors[name] = [gettext("Must be a number, not null.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # The model keeps zero successes for an experiment on means; they mean nothing there.
        for name in FIELDS_OF_METRIC[OTHER_METRIC[self.metric_shown(instance)]]:
            data[name] = None
        return data


class ExperimentResultSerializer(serializers.Serializer):
    control_rate = serializers.FloatField()
    treatment_rate = serializers.FloatField()
    lift = serializers.FloatField(help_text=_("Treatment rate minus control rate."))
    relative_lift = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    confidence = serializers.FloatField()
    p_value = serializers.FloatField(help_text=_("Two-sided, two-proportion z-test."))
    summary = serializers.CharField()


class FixedHorizonEstimateSerializer(serializers.Serializer):
    lift = serializers.FloatField(
        help_text=_(
            "Treatment minus control at the latest look: the difference of the rates for a "
            "proportion, of the means for a mean."
        )
    )
    relative_lift = serializers.FloatField(
        allow_null=True, help_text=_("The lift over the control arm's level; null when that level is zero.")
    )
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    confidence = serializers.FloatField(
        help_text=_("Of the interval: 1 minus the policy's significance level, e.g. 0.95.")
    )
    p_value = serializers.FloatField(
        help_text=_(
            "Two-sided: two-proportion z-test, or Welch's z-test for means. Valid for a single "
            "look planned in advance."
        )
    )
    enough_data = serializers.BooleanField(
        help_text=_("False when the arms are too small for the normal approximation to be trusted.")
    )
    significant = serializers.BooleanField(
        help_text=_(
            "p below the policy's level, the whole interval on the side the KPI's direction "
            "calls better, on enough data."
        )
    )


class AlwaysValidEstimateSerializer(serializers.Serializer):
    difference = serializers.FloatField(help_text=_("Treatment minus control at the latest look."))
    ci_low = FiniteFloatField(
        allow_null=True,
        help_text=_(
            "Confidence sequence over every look so far: it holds however often anyone looks. "
            "Null while the data cannot bound it."
        ),
    )
    ci_high = FiniteFloatField(allow_null=True, help_text=_("As ci_low."))
    confidence = serializers.FloatField(help_text=_("1 minus the policy's significance level."))
    p_value = serializers.FloatField(help_text=_("Always-valid p-value (mSPRT) after every look so far."))
    looks = serializers.IntegerField(help_text=_("The looks this test covers."))
    first_significant_look = serializers.IntegerField(
        allow_null=True, help_text=_("The look (counting from 1) at which p first fell below the level.")
    )
    enough_data = serializers.BooleanField()
    looks_with_enough_data = serializers.IntegerField(
        help_text=_(
            "The looks with enough data to enter the p-value and the interval; thinner ones decide nothing."
        )
    )
    contradictory = serializers.BooleanField(
        help_text=_(
            "The looks' intervals have no value in common: the effect is not stable, the experiment "
            "supports no verdict either way, and ci_low/ci_high are the latest look's own interval."
        )
    )
    significant = serializers.BooleanField(
        help_text=_(
            "p below the policy's level, the whole sequence on the side the KPI's direction "
            "calls better, on enough data."
        )
    )


class ExperimentVerdictSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=[ExperimentMethod.FIXED_HORIZON, ExperimentMethod.ALWAYS_VALID],
        help_text=_(
            "The test that decides, as the gate policy judging the experiment says: the open "
            "review's pinned policy, else the scale gate's current one (as the initiative page shows)."
        ),
    )
    gate = serializers.CharField(help_text=_("The gate whose policy judges the experiment."))
    policy_version = serializers.IntegerField()
    significance_level = serializers.FloatField()
    significant = serializers.BooleanField(help_text=_("As the deciding test says; what the gate requires."))
    summary = serializers.CharField(help_text=_("Both tests in words, as the gate checklist shows them."))
    fixed_horizon = FixedHorizonEstimateSerializer()
    always_valid = AlwaysValidEstimateSerializer()


@extend_schema_serializer(
    description=_("An A/B experiment: its latest look's figures and the verdict computed over all its looks.")
)
class ExperimentSerializer(ArmSummarySerializer):
    # Shown with the context {"kpi": KPIFacts, "rules": PolicyRules, "judgements": {id: (verdict,
    # problem)}}: the view has the experiments judged (governance/reviews/facts.py); this only shows.

    read_only_reasons = {
        **{
            name: COMPUTED
            for name in (
                "lift",
                "relative_lift",
                "ci_low",
                "ci_high",
                "p_value",
                "confidence",
                "control_rate",
                "treatment_rate",
                "result",
                "verdict",
                "problem",
            )
        },
        "look_count": COUNTED,
        "latest_look_on": COUNTED,
    }

    id = serializers.IntegerField(read_only=True)
    kpi = serializers.IntegerField(source="kpi_id", read_only=True)
    name = SingleLineField(max_length=200)
    metric = StrictChoiceField(
        choices=Metric.values,
        required=False,
        default=Metric.PROPORTION,
        help_text=_(
            "proportion: send each arm's successes; mean (a time or an amount): each arm's mean "
            "and sample variance."
        ),
    )
    success_definition = SingleLineField(
        max_length=200, help_text=_("What counts as a success (proportions) or what is measured (means).")
    )
    looked_on = IsoDateField(
        write_only=True,
        required=False,
        help_text=_(
            "The day of these figures, the experiment's first look; today if omitted. Later "
            "looks go to …/experiments/{id}/looks/."
        ),
    )
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)
    look_count = serializers.SerializerMethodField(
        help_text=_("Looks recorded; the figures above are the latest.")
    )
    latest_look_on = serializers.SerializerMethodField(help_text=_("The day of the figures above."))
    result = serializers.SerializerMethodField(
        help_text=_(
            "The fixed-horizon two-proportion test at the latest look, kept for clients written "
            "before `verdict`; null for an experiment on means."
        )
    )
    verdict = serializers.SerializerMethodField(
        help_text=_(
            "Both tests over every look and which one decides; null when none can be computed "
            "(see `problem`)."
        )
    )
    problem = serializers.SerializerMethodField(
        help_text=_("Why there is no verdict; empty when there is one.")
    )

    def metric_sent(self, attrs: dict) -> str:
        return attrs["metric"]

    def metric_shown(self, experiment) -> str:
        return experiment.metric

    def _judgement(self, experiment) -> tuple[ExperimentVerdict | None, str]:
        return self.context["judgements"][experiment.pk]

    def get_look_count(self, experiment) -> int:
        return len(experiment.looks.all())

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_latest_look_on(self, experiment) -> dt.date | None:
        looks = experiment.looks.all()
        return max((look.looked_on for look in looks), default=None)

    @extend_schema_field(ExperimentResultSerializer(allow_null=True))
    def get_result(self, experiment) -> dict | None:
        verdict, _ = self._judgement(experiment)
        if (
            verdict is None
            or experiment.metric != Metric.PROPORTION
            or not isinstance(verdict.fixed, TwoProportionResult)
        ):
            return None
        fixed = verdict.fixed
        return ExperimentResultSerializer(
            {
                "control_rate": fixed.control_rate,
                "treatment_rate": fixed.treatment_rate,
                "lift": fixed.lift,
                "relative_lift": fixed.relative_lift,
                "ci_low": fixed.ci_low,
                "ci_high": fixed.ci_high,
                "confidence": fixed.confidence,
                "p_value": fixed.p_value,
                "summary": fixed.describe(),
            }
        ).data

    @extend_schema_field(ExperimentVerdictSerializer(allow_null=True))
    def get_verdict(self, experiment) -> dict | None:
        verdict, _ = self._judgement(experiment)
        if verdict is None:
            return None
        rules, kpi = self.context["rules"], self.context["kpi"]
        fixed, valid = verdict.fixed, verdict.always_valid
        return ExperimentVerdictSerializer(
            {
                "method": verdict.method,
                "gate": rules.gate,
                "policy_version": rules.version,
                "significance_level": rules.significance_level,
                "significant": verdict.significant,
                # The line the gate checklist gives this experiment, as a sentence.
                "summary": _experiment_line(experiment.name, kpi.name, verdict),
                "fixed_horizon": {
                    "lift": fixed.lift,
                    "relative_lift": fixed.relative_lift,
                    "ci_low": fixed.ci_low,
                    "ci_high": fixed.ci_high,
                    "confidence": fixed.confidence,
                    "p_value": fixed.p_value,
                    "enough_data": fixed.large_sample,
                    "significant": verdict.fixed_significant,
                },
                "always_valid": {
                    "difference": valid.difference,
                    "ci_low": valid.cs_low,
                    "ci_high": valid.cs_high,
                    "confidence": valid.confidence,
                    "p_value": valid.p_value,
                    "looks": valid.looks,
                    "first_significant_look": valid.first_significant_look,
                    "enough_data": valid.enough_data,
                    "looks_with_enough_data": valid.looks_with_enough_data,
                    "contradictory": valid.contradictory,
                    "significant": verdict.always_valid_significant,
                },
            }
        ).data

    def get_problem(self, experiment) -> str:
        return self._judgement(experiment)[1]


def _experiment_line(experiment: str, kpi: str, verdict: ExperimentVerdict) -> str:
    described = verdict.describe()
    words = say(described) if isinstance(described, Reason) else described
    # Translators: %(experiment)s and %(kpi)s are names; %(verdict)s is both tests' verdict in words.
    message = gettext("%(experiment)s on %(kpi)s: %(verdict)s.")
    return message % {"experiment": experiment, "kpi": kpi, "verdict": words}


@extend_schema_serializer(description=_("One look at an experiment: its cumulative figures on that day."))
class ExperimentLookSerializer(ArmSummarySerializer):
    # Read and shown with the context {"metric": the experiment's metric}.

    id = serializers.IntegerField(read_only=True)
    experiment = serializers.IntegerField(source="experiment_id", read_only=True)
    looked_on = IsoDateField(
        help_text=_("The day of these figures: after the latest look, not in the future.")
    )
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)

    def metric_sent(self, attrs: dict) -> str:
        return self.context["metric"]

    def metric_shown(self, look) -> str:
        return self.context["metric"]


class ExperimentLookRecordedSerializer(serializers.Serializer):
    look = ExperimentLookSerializer()
    experiment = ExperimentSerializer(
        help_text=_("The experiment with its verdict over every look, this one included.")
    )


# Costs, benefits, evidence --------------------------------------------------------------------


class FinancialEntrySerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    kind = StrictChoiceField(choices=EntryKind.values)
    month = IsoDateField(help_text=_("First day of the month."))
    amount = DecimalValueField(what=_("Amount"), max_digits=14, decimal_places=2)
    description = SingleLineField(max_length=200, allow_blank=True, required=False, default="")
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)


class EvidenceSerializer(StrictSerializer):
    read_only_reasons = {"sha256": _("ValueGate hashes the file it receives.")}

    id = serializers.IntegerField(read_only=True)
    kind = StrictChoiceField(choices=EvidenceKind.values)
    title = SingleLineField(max_length=200)
    file = serializers.FileField(write_only=True, max_length=255)
    sha256 = serializers.CharField(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)


# Gates, reviews, sign-offs --------------------------------------------------------------------


@extend_schema_field(REASON_CODE_SCHEMA)
class ReasonCodeField(serializers.JSONField):
    """A rule's reason as its stable code and parameters."""


class RequirementSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # declared field: see MeasurementRowSerializer
    passed = serializers.BooleanField()
    reason = serializers.CharField(help_text=_("In the request's language (Accept-Language)."))
    reason_code = ReasonCodeField()


class ChecklistSerializer(serializers.Serializer):
    initiative = serializers.IntegerField()
    stage = serializers.CharField()
    gate = serializers.CharField(allow_null=True, help_text=_("null when no gate lies ahead."))
    policy_version = serializers.IntegerField(allow_null=True)
    review = serializers.IntegerField(allow_null=True, help_text=_("The open review, if any."))
    passed = serializers.BooleanField()
    requirements = RequirementSerializer(many=True)


class ConditionSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    text = StrictCharField(max_length=TEXT_MAX)
    due_on = IsoDateField()
    owner = UsernameField(required=False, allow_null=True, default=None)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class SignOffSerializer(StrictSerializer):
    read_only_reasons = {
        "digest": _("ValueGate pins the digest of what the reviewer saw."),
        "reviewer": _("the signed-in reviewer signs."),
    }

    id = serializers.IntegerField(read_only=True)
    function = StrictChoiceField(choices=FunctionCode.values, source="function.code")
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    decision = StrictChoiceField(choices=Decision.values)
    rationale = StrictCharField(max_length=TEXT_MAX)
    # With many=True the list serializer takes max_length; the stubs only know a single serializer's arguments.
    conditions = ConditionSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_CONDITIONS
    )
    digest = serializers.CharField(read_only=True)
    signed_at = serializers.DateTimeField(read_only=True)
    superseded_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    initiative = serializers.IntegerField(source="initiative_id", read_only=True)
    initiative_title = serializers.CharField(source="initiative.title", read_only=True)
    gate = serializers.CharField(read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    status = serializers.CharField(read_only=True)
    outcome = serializers.CharField(read_only=True, help_text=_("Empty while the review is open."))
    outcome_reason = serializers.CharField(source="outcome_reason_in_words", read_only=True)
    requested_by = serializers.CharField(
        source="requested_by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("Null when ValueGate opened the review itself (perpetual pilot, exit criteria)."),
    )
    opened_at = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    signoffs = SignOffSerializer(many=True, read_only=True, source="api_signoffs")


class ReviewRequestSerializer(StrictSerializer):
    gate = StrictChoiceField(
        choices=Gate.values, required=False, help_text=_("Defaults to the gate the initiative faces next.")
    )


class ReceiptSerializer(serializers.Serializer):
    hash = serializers.CharField(help_text=_("The event's leaf hash."))
    recorded_at = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField(help_text=_("Ed25519 over the hash and time, base64."))
    action = serializers.CharField()


class SignOffRecordedSerializer(serializers.Serializer):
    signoff = SignOffSerializer()
    review = ReviewSerializer()
    initiative_stage = serializers.CharField()
    receipt = ReceiptSerializer(
        allow_null=True,
        help_text=_("Keep it: with the ledger's public key it proves this sign-off was recorded."),
    )


class InitiativeBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    stage = serializers.CharField()


class PendingSignOffSerializer(serializers.Serializer):
    review = serializers.IntegerField()
    gate = serializers.CharField()
    opened_at = serializers.DateTimeField()
    initiative = InitiativeBriefSerializer()
    functions = serializers.ListField(
        child=serializers.CharField(), help_text=_("Functions you may sign for.")
    )


# Ledger and identity ------------------------------------------------------------------------


class LedgerEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    recorded_at = serializers.SerializerMethodField(help_text=_("UTC, in the ledger's canonical form."))
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    initiative = serializers.IntegerField(source="initiative_id", allow_null=True)
    actor_id = serializers.IntegerField(allow_null=True)
    payload = serializers.SerializerMethodField()
    nonce = serializers.CharField()
    key_id = serializers.CharField(help_text=_("The signing key's id; empty for events before signing."))
    signature = serializers.CharField(help_text=_("Ed25519 over the leaf hash and time, base64."))
    prev_hash = serializers.CharField(allow_null=True, help_text=_("Only events before signing are chained."))
    hash = serializers.CharField(help_text=_("The event's Merkle leaf hash (its chain hash before signing)."))

    def get_recorded_at(self, event) -> str:
        return utc_text(event.recorded_at)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, event) -> dict:
        return json.loads(event.payload)


class LedgerHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text=_("The tree's size: events sequenced so far."))
    hash = serializers.CharField(help_text=_("The tree's root hash (hex); unsigned, see checkpoint."))
    checkpoint = serializers.CharField(
        allow_null=True, help_text=_("The latest signed checkpoint (note text).")
    )


class InclusionProofSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    leaf_index = serializers.IntegerField()
    leaf_hash = serializers.CharField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text=_("The checkpoint's root hash, hex."))
    proof = serializers.ListField(child=serializers.CharField(), help_text=_("RFC 9162 audit path, hex."))
    checkpoint = serializers.CharField(help_text=_("The signed checkpoint the proof leads to."))


class ConsistencyProofSerializer(serializers.Serializer):
    old_size = serializers.IntegerField()
    new_size = serializers.IntegerField()
    old_root = serializers.CharField()
    new_root = serializers.CharField()
    proof = serializers.ListField(
        child=serializers.CharField(), help_text=_("RFC 9162 consistency proof, hex.")
    )
    old_checkpoint = serializers.CharField()
    new_checkpoint = serializers.CharField()


class TokenInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    initiative = serializers.IntegerField(allow_null=True, source="initiative_id")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    committee_functions = serializers.ListField(child=serializers.CharField())
    token = TokenInfoSerializer(allow_null=True)


# Experiment plans: registered before the data, changed afterwards only with a reason -------------

SOURCE_KEPT = _(
    "ValueGate keeps it: every registration or change of the source adds a version to the ledger."
)


class KPISourceSerializer(StrictSerializer):
    """Where a KPI is measured from: shown from a KPISource; validated into kpi_source_register's input."""

    read_only_reasons = {
        name: SOURCE_KEPT
        for name in (
            "version",
            "registered_by",
            "registered_at",
            "last_read_at",
            "failing_since",
            "last_problem",
        )
    }

    kpi = serializers.IntegerField(source="kpi_id", read_only=True)
    connector = serializers.CharField(
        max_length=60, help_text=_("One of the deployment's connectors (VALUEGATE_KPI_CONNECTORS), by name.")
    )
    query = serializers.CharField(
        max_length=20_000,
        trim_whitespace=True,
        help_text=_(
            "SQL connectors: one SELECT returning period, value and optionally sample_size, a row per month. "
            "File connectors: the CSV file's name in the connector's directory."
        ),
    )
    active = serializers.BooleanField(required=False, default=True, help_text=_("false pauses the readings."))
    version = serializers.IntegerField(read_only=True)
    registered_by = serializers.CharField(source="registered_by.username", read_only=True)
    registered_at = serializers.DateTimeField(read_only=True)
    last_read_at = serializers.DateTimeField(read_only=True, allow_null=True)
    failing_since = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_("Set while the source cannot be read; null when it reads well."),
    )
    last_problem = serializers.SerializerMethodField(
        help_text=_("Why the last reading failed, in the reader's language.")
    )

    def get_last_problem(self, source) -> str:
        return say_stored(source.last_problem) if source.last_problem else ""


PLAN_KEPT = _("ValueGate keeps it: every registration or change of the plan adds a version to the ledger.")


@extend_schema_serializer(
    description=_(
        "A KPI's experiment plan, registered before its experiment's data arrives and pinned in the "
        "ledger. Send the minimum effect either in the KPI's unit (`minimum_effect`) or as a lift "
        "relative to the baseline (`relative_lift`, 0.3 for +30%). Before the first look a new plan "
        "replaces the old one; after it, a change needs a `reason` and stays visible as a change "
        "after data arrived."
    )
)
class ExperimentPlanSerializer(StrictSerializer):
    # Shown from an ExperimentPlan; validated into the figures of experiment_plan_register's PlanInput.

    read_only_reasons = {name: PLAN_KEPT for name in ("version", "changed_after_data", "change_reason")}

    kpi = serializers.IntegerField(source="kpi_id", read_only=True)
    metric = StrictChoiceField(
        choices=Metric.values,
        required=False,
        default=Metric.PROPORTION,
        help_text=_(
            "What the experiment's arms record: proportion (successes) or mean (a time or an amount)."
        ),
    )
    baseline = DecimalValueField(
        what=_("Baseline"),
        required=False,
        allow_null=True,
        help_text=_(
            "The control arm's expected level as the experiment records it (a rate between 0 and 1, or "
            "a mean), when it is not the KPI's baseline; null: the KPI's baseline."
        ),
        **KPI_NUMBER,
    )
    minimum_effect = DecimalValueField(
        what=_("Minimum effect"),
        required=False,
        allow_null=True,
        help_text=_("The smallest improvement that matters, positive, in the baseline's unit."),
        **KPI_NUMBER,
    )
    relative_lift = DecimalValueField(
        what=_("Relative lift"),
        write_only=True,
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=6,
        help_text=_("Instead of minimum_effect: the improvement relative to the baseline, 0.3 for +30%."),
    )
    treatment_share = DecimalValueField(
        what=_("Treatment share"),
        max_digits=5,
        decimal_places=4,
        help_text=_(
            "Share of the units the treatment arm receives, strictly between 0 and 1: 0.5 for 50/50."
        ),
    )
    planned_looks = StrictIntegerField(
        min_value=1, max_value=120, help_text=_("Monthly looks planned at the experiment's arms.")
    )
    traffic_per_month = StrictIntegerField(
        min_value=1, help_text=_("Units entering the experiment each month, both arms together.")
    )
    standard_deviation = DecimalValueField(
        what=_("Standard deviation"),
        required=False,
        allow_null=True,
        help_text=_("Mean KPIs only (required there): the standard deviation of one unit's value."),
        **KPI_NUMBER,
    )
    notes = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)
    reason = StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text=_("Why the plan changes; required once the KPI's experiments have data."),
    )
    version = serializers.IntegerField(read_only=True)
    changed_after_data = serializers.BooleanField(read_only=True)
    change_reason = serializers.CharField(read_only=True)
    registered_by = serializers.CharField(source="registered_by.username", read_only=True)
    registered_at = serializers.DateTimeField(read_only=True)
