"""Serializers: what each endpoint accepts (strictly) and returns.

They validate shape and types only; the services decide what is allowed and record it.
Read-only fields (stage, owner, hashes, computed statistics, ledger fields) are refused when sent.
"""

from __future__ import annotations

import datetime as dt
import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.exceptions import RowErrors
from governance.api.fields import (
    SMALLINT_MAX,
    DecimalValueField,
    IsoDateField,
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
from governance.models import Decision, FunctionCode, Gate
from governance.rules.gates import ExperimentFacts, experiment_result
from governance.services.portfolio import MeasurementInput
from projects.models import (
    KPI_DECIMAL_PLACES,
    KPI_MAX_DIGITS,
    Direction,
    EntryKind,
    EvidenceKind,
    RiskTier,
)

TEXT_MAX = 5000
MAX_MEASUREMENTS = 10_000
MAX_CONDITIONS = 20

STAGE_REASON = "an initiative's stage moves only through its gates."


# Initiatives --------------------------------------------------------------------------------


class InitiativeSerializer(StrictSerializer):
    read_only_reasons = {
        "stage": STAGE_REASON,
        "owner": "the project lead who registers an initiative owns it.",
    }

    id = serializers.IntegerField(read_only=True)
    title = StrictCharField(max_length=200)
    department = StrictCharField(max_length=120)
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
    budget = DecimalValueField(what="Budget", max_digits=14, decimal_places=2)
    expected_annual_benefit = DecimalValueField(
        what="Expected annual benefit", max_digits=14, decimal_places=2
    )
    horizon_months = StrictIntegerField(min_value=1, max_value=SMALLINT_MAX, required=False, default=36)
    exit_criteria = StrictCharField(max_length=TEXT_MAX)
    missed_periods_to_retire = StrictIntegerField(
        min_value=1, max_value=SMALLINT_MAX, required=False, default=3
    )


class KPISerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=120)
    unit = StrictCharField(max_length=40)
    direction = StrictChoiceField(choices=Direction.values)
    baseline = DecimalValueField(
        what="Baseline", max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES
    )
    target = DecimalValueField(what="Target", max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES)
    data_source = StrictCharField(max_length=200)
    is_primary = StrictBooleanField(required=False, default=True)


# Measurements: parsed row by row, fast enough for 10,000 rows, every bad row named -------------


class MeasurementRowSerializer(serializers.Serializer):
    """One measurement (documents the row; the batch field parses rows without a serializer each)."""

    period = serializers.DateField(help_text="First day of the month measured, YYYY-MM-DD.")
    value = DecimalValueField(what="Value", max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES)
    sample_size = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2_147_483_647
    )
    source = serializers.CharField(max_length=200)


class MeasurementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    period = serializers.DateField(read_only=True)
    value = serializers.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, read_only=True
    )
    sample_size = serializers.IntegerField(read_only=True, allow_null=True)
    source = serializers.CharField(read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)


ROW_KEYS = frozenset({"period", "value", "sample_size", "source"})
ROW_REQUIRED = ("period", "value", "source")


def parse_measurement_row(row: object) -> tuple[MeasurementInput | None, str | None]:
    if not isinstance(row, dict):
        return None, "Each measurement must be an object."
    unknown = row.keys() - ROW_KEYS
    if unknown:
        return None, f"Unknown field(s): {', '.join(sorted(str(k)[:40] for k in unknown))}."
    missing = [k for k in ROW_REQUIRED if k not in row]
    if missing:
        return None, f"Missing: {', '.join(missing)}."
    period, problem = date_problem(row["period"])
    if problem:
        return None, f"Period: {problem}"
    value, problem = decimal_or_problem(
        row["value"], what="Value", max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES
    )
    if problem:
        return None, problem
    sample_size = row.get("sample_size")
    if sample_size is not None:
        problem = integer_problem(sample_size, min_value=0, max_value=2_147_483_647)
        if problem:
            return None, f"Sample size: {problem}"
    problem = text_problem(row["source"], max_length=200)
    if problem:
        return None, f"Source: {problem}"
    return MeasurementInput(period=period, value=value, source=row["source"], sample_size=sample_size), None


@extend_schema_field(MeasurementRowSerializer(many=True))
class MeasurementRowsField(serializers.Field):
    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Must be an array of measurements.")
        if not data:
            raise serializers.ValidationError("Send at least one measurement.")
        if len(data) > MAX_MEASUREMENTS:
            raise serializers.ValidationError(
                f"At most {MAX_MEASUREMENTS} measurements per request (got {len(data)}); split the batch."
            )
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

COMPUTED = "ValueGate computes it from the counts; the committee does not take it on trust."


class ExperimentResultSerializer(serializers.Serializer):
    control_rate = serializers.FloatField()
    treatment_rate = serializers.FloatField()
    lift = serializers.FloatField(help_text="Treatment rate minus control rate.")
    relative_lift = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    confidence = serializers.FloatField()
    p_value = serializers.FloatField(help_text="Two-sided, two-proportion z-test.")
    summary = serializers.CharField()


class ExperimentSerializer(StrictSerializer):
    read_only_reasons = {
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
        )
    }

    id = serializers.IntegerField(read_only=True)
    kpi = serializers.IntegerField(source="kpi_id", read_only=True)
    name = StrictCharField(max_length=200)
    success_definition = StrictCharField(max_length=200)
    control_size = StrictIntegerField(min_value=1)
    control_successes = StrictIntegerField()
    treatment_size = StrictIntegerField(min_value=1)
    treatment_successes = StrictIntegerField()
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)
    result = serializers.SerializerMethodField()

    @extend_schema_field(ExperimentResultSerializer)
    def get_result(self, experiment) -> dict:
        result = experiment_result(
            ExperimentFacts(
                experiment.name,
                experiment.control_size,
                experiment.control_successes,
                experiment.treatment_size,
                experiment.treatment_successes,
            )
        )
        return {
            "control_rate": result.control_rate,
            "treatment_rate": result.treatment_rate,
            "lift": result.lift,
            "relative_lift": result.relative_lift,
            "ci_low": result.ci_low,
            "ci_high": result.ci_high,
            "confidence": result.confidence,
            "p_value": result.p_value,
            "summary": result.describe(),
        }


# Costs, benefits, evidence --------------------------------------------------------------------


class FinancialEntrySerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    kind = StrictChoiceField(choices=EntryKind.values)
    month = IsoDateField(help_text="First day of the month.")
    amount = DecimalValueField(what="Amount", max_digits=14, decimal_places=2)
    description = StrictCharField(max_length=200, allow_blank=True, required=False, default="")
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)


class EvidenceSerializer(StrictSerializer):
    read_only_reasons = {"sha256": "ValueGate hashes the file it receives."}

    id = serializers.IntegerField(read_only=True)
    kind = StrictChoiceField(choices=EvidenceKind.values)
    title = StrictCharField(max_length=200)
    file = serializers.FileField(write_only=True, max_length=255)
    sha256 = serializers.CharField(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)


# Gates, reviews, sign-offs --------------------------------------------------------------------


class RequirementSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    passed = serializers.BooleanField()
    reason = serializers.CharField()


class ChecklistSerializer(serializers.Serializer):
    initiative = serializers.IntegerField()
    stage = serializers.CharField()
    gate = serializers.CharField(allow_null=True, help_text="null when no gate lies ahead.")
    policy_version = serializers.IntegerField(allow_null=True)
    review = serializers.IntegerField(allow_null=True, help_text="The open review, if any.")
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
        "digest": "ValueGate pins the digest of what the reviewer saw.",
        "reviewer": "the signed-in reviewer signs.",
    }

    id = serializers.IntegerField(read_only=True)
    function = StrictChoiceField(choices=FunctionCode.values, source="function.code")
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    decision = StrictChoiceField(choices=Decision.values)
    rationale = StrictCharField(max_length=TEXT_MAX)
    conditions = ConditionSerializer(many=True, required=False, default=list, max_length=MAX_CONDITIONS)
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
    outcome = serializers.CharField(read_only=True, help_text="Empty while the review is open.")
    outcome_reason = serializers.CharField(read_only=True)
    requested_by = serializers.CharField(
        source="requested_by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Null when ValueGate opened the review itself (perpetual pilot, exit criteria).",
    )
    opened_at = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    signoffs = SignOffSerializer(many=True, read_only=True, source="api_signoffs")


class ReviewRequestSerializer(StrictSerializer):
    gate = StrictChoiceField(
        choices=Gate.values, required=False, help_text="Defaults to the gate the initiative faces next."
    )


class SignOffRecordedSerializer(serializers.Serializer):
    signoff = SignOffSerializer()
    review = ReviewSerializer()
    initiative_stage = serializers.CharField()


class InitiativeBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    stage = serializers.CharField()


class PendingSignOffSerializer(serializers.Serializer):
    review = serializers.IntegerField()
    gate = serializers.CharField()
    opened_at = serializers.DateTimeField()
    initiative = InitiativeBriefSerializer()
    functions = serializers.ListField(child=serializers.CharField(), help_text="Functions you may sign for.")


# Ledger and identity ------------------------------------------------------------------------


def canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class LedgerEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    recorded_at = serializers.SerializerMethodField(help_text="UTC, in the ledger's canonical form.")
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    initiative = serializers.IntegerField(source="initiative_id", allow_null=True)
    payload = serializers.SerializerMethodField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()

    def get_recorded_at(self, event) -> str:
        return canonical_time(event.recorded_at)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, event) -> dict:
        return json.loads(event.payload)


class LedgerHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()


class TokenInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    initiative = serializers.IntegerField(allow_null=True, source="initiative_id")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    committee_functions = serializers.ListField(child=serializers.CharField())
    token = TokenInfoSerializer(allow_null=True)
