"""Forms of the admin workspace. They validate the shape of the input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from governance.reviews.initiatives import DRAFT_FIELDS
from governance.value.evidence_checks import ACCEPTED_EXTENSIONS, ACCEPTED_LABELS, max_bytes
from projects.models import KPI, KPI_DECIMAL_PLACES, KPI_MAX_DIGITS, Evidence, Experiment, Initiative
from projects.vocabulary import Decision, Direction, EntryKind, EvidenceKind, Gate, Metric, function_name

TEXTAREA = forms.Textarea(attrs={"rows": 3, "cols": 60})


class MonthField(forms.DateField):
    """A month, entered as YYYY-MM; its value is the month's first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m", "%Y-%m-%d"])
        kwargs.setdefault("help_text", "YYYY-MM")
        super().__init__(**kwargs)

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class DayField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _sponsor_choices():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class InitiativeForm(forms.ModelForm):
    """An initiative's description: what a lead writes while it is a draft. Never its stage."""

    class Meta:
        model = Initiative
        fields = list(DRAFT_FIELDS)
        widgets = {"pain_point": TEXTAREA, "process_embedding": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["sponsor"]).queryset = _sponsor_choices()


class BusinessCaseForm(forms.Form):
    budget = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    expected_annual_benefit = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    horizon_months = forms.IntegerField(min_value=1, max_value=600, initial=36)
    exit_criteria = forms.CharField(widget=TEXTAREA, help_text="When the initiative is stopped.")
    missed_periods_to_retire = forms.IntegerField(
        min_value=1,
        max_value=120,
        initial=3,
        help_text="Consecutive periods a primary KPI may miss its target before retirement is proposed.",
    )


class KPIForm(forms.Form):
    name = forms.CharField(max_length=120)
    unit = forms.CharField(max_length=40)
    direction = forms.ChoiceField(choices=Direction.choices)
    baseline = forms.DecimalField(max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES)
    target = forms.DecimalField(max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES)
    data_source = forms.CharField(max_length=200)
    is_primary = forms.BooleanField(required=False, initial=True)


class KPIChoiceForm(forms.Form):
    kpi: forms.ModelChoiceField[KPI] = forms.ModelChoiceField(queryset=None, label="KPI", empty_label=None)

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        kpis = initiative.kpis.order_by("-is_primary", "name")
        cast(forms.ModelChoiceField, self.fields["kpi"]).queryset = kpis


class MeasurementRowForm(forms.Form):
    period = MonthField()
    value = forms.CharField(max_length=60, help_text="A number, e.g. 37.5")
    sample_size = forms.IntegerField(min_value=0, required=False)
    source = forms.CharField(max_length=200)


MeasurementRowFormSet = forms.formset_factory(MeasurementRowForm, extra=3, max_num=24, absolute_max=24)


def _arm_fields() -> dict:
    number: dict[str, Any] = {
        "max_digits": KPI_MAX_DIGITS,
        "decimal_places": KPI_DECIMAL_PLACES,
        "required": False,
    }
    return {
        "control_size": forms.IntegerField(min_value=0, help_text="Observations so far (cumulative)."),
        "control_successes": forms.IntegerField(min_value=0, required=False, help_text="Proportions only."),
        "treatment_size": forms.IntegerField(min_value=0),
        "treatment_successes": forms.IntegerField(min_value=0, required=False, help_text="Proportions only."),
        "control_mean": forms.DecimalField(help_text="Means only.", **number),
        "control_variance": forms.DecimalField(help_text="Means only: the sample variance.", **number),
        "treatment_mean": forms.DecimalField(help_text="Means only.", **number),
        "treatment_variance": forms.DecimalField(help_text="Means only: the sample variance.", **number),
    }


class ExperimentForm(KPIChoiceForm):
    """An A/B experiment and its first look: summaries only, ValueGate computes the verdict."""

    name = forms.CharField(max_length=200)
    metric = forms.ChoiceField(choices=Metric.choices, initial=Metric.PROPORTION)
    success_definition = forms.CharField(
        max_length=200, help_text="What counts as a success (proportions) or what is measured (means)."
    )
    looked_on = DayField(
        required=False, label="Looked on", help_text="The day of these figures; today if empty."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_arm_fields())


class ExperimentLookForm(forms.Form):
    """A later look at an experiment: its cumulative figures on that day."""

    experiment: forms.ModelChoiceField[Experiment] = forms.ModelChoiceField(queryset=None, empty_label=None)
    looked_on = DayField(label="Looked on")

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        experiments = Experiment.objects.filter(kpi__initiative=initiative).order_by("id")
        cast(forms.ModelChoiceField, self.fields["experiment"]).queryset = experiments
        self.fields.update(_arm_fields())


class FinancialEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=EntryKind.choices)
    month = MonthField()
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    description = forms.CharField(max_length=200, required=False)


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices)
    title = forms.CharField(max_length=200)
    file = forms.FileField(allow_empty_file=False)
    replaces = forms.ModelChoiceField(
        queryset=Evidence.objects.none(),
        required=False,
        label="New version of",
        help_text="Files are never overwritten: the earlier version stays on file.",
    )

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"{ACCEPTED_LABELS} ({', '.join(ACCEPTED_EXTENSIONS)}), at most "
            f"{max_bytes() / (1024 * 1024):g} MB. The content is checked, not just the name."
        )
        current = initiative.evidence.filter(replaced_by__isnull=True).order_by("id")
        cast(forms.ModelChoiceField, self.fields["replaces"]).queryset = current


class ReviewRequestForm(forms.Form):
    gate = forms.ChoiceField(choices=())

    def __init__(self, *args, gates: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Gate.choices)
        cast(forms.ChoiceField, self.fields["gate"]).choices = [(g, labels[g]) for g in gates]


class SignOffForm(forms.Form):
    function = forms.ChoiceField(choices=(), label="Signing for")
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="What you checked and why you decide so; it is kept in the ledger.",
    )

    def __init__(self, *args, functions: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f, function_name(f)) for f in functions]
        cast(forms.ChoiceField, self.fields["function"]).choices = choices
        if len(functions) == 1:
            self.fields["function"].initial = functions[0]
            self.fields["function"].widget = forms.HiddenInput()


class ConditionForm(forms.Form):
    text = forms.CharField(max_length=500, label="Condition")
    due_on = DayField(label="Due on")


ConditionFormSet = forms.formset_factory(ConditionForm, extra=2, max_num=10, absolute_max=10)


class HoldForm(forms.Form):
    reason = forms.CharField(widget=TEXTAREA)
    revisit_on = DayField(label="Revisit on")


class KillForm(forms.Form):
    reason = forms.CharField(widget=TEXTAREA)


class ConditionCloseForm(forms.Form):
    note = forms.CharField(widget=TEXTAREA, help_text="How the condition was met.")


class LedgerExportForm(forms.Form):
    since = DayField(required=False, help_text="First UTC day (empty: from the first event).")
    until = DayField(required=False, help_text="Last UTC day, included (empty: up to now).")
    initiative = forms.ModelChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        help_text="Only this initiative's events; the others keep only their hashes.",
    )
    format = forms.ChoiceField(
        choices=[
            ("json", "JSON (with the tree proof: verifiable offline)"),
            ("csv", "CSV (for spreadsheets)"),
        ]
    )

    def __init__(self, *args, initiatives, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["initiative"]).queryset = initiatives.order_by("title")

    def clean(self):
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The period's start comes after its end.")
        return cleaned
