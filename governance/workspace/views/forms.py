"""Forms of the admin workspace. They validate the shape of the input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
        # Translators: the format of a month field's input: four digits of the year, two of the month.
        kwargs.setdefault("help_text", _("YYYY-MM"))
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
    budget = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, label=_("Budget"))
    expected_annual_benefit = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, label=_("Expected annual benefit")
    )
    horizon_months = forms.IntegerField(min_value=1, max_value=600, initial=36, label=_("Horizon months"))
    currency = forms.CharField(
        required=False,
        max_length=3,
        label=_("Currency"),
        help_text=_(
            "ISO 4217 code of the budget, costs and benefits, e.g. CNY or USD. Blank: the deployment's."
        ),
    )
    exit_criteria = forms.CharField(
        widget=TEXTAREA, label=_("Exit criteria"), help_text=_("When the initiative is stopped.")
    )
    missed_periods_to_retire = forms.IntegerField(
        min_value=1,
        max_value=120,
        initial=3,
        label=_("Missed periods to retire"),
        help_text=_("Consecutive periods a primary KPI may miss its target before retirement is proposed."),
    )


class KPIForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    unit = forms.CharField(max_length=40, label=_("Unit"))
    direction = forms.ChoiceField(choices=Direction.choices, label=_("Direction"))
    baseline = forms.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, label=_("Baseline")
    )
    target = forms.DecimalField(
        max_digits=KPI_MAX_DIGITS, decimal_places=KPI_DECIMAL_PLACES, label=_("Target")
    )
    data_source = forms.CharField(max_length=200, label=_("Data source"))
    is_primary = forms.BooleanField(required=False, initial=True, label=_("Is primary"))
    is_guardrail = forms.BooleanField(
        required=False,
        label=_("Is guardrail"),
        help_text=_(
            "A KPI that must not degrade beyond its margin (complaints, brand-tone violations); never primary."
        ),
    )
    non_inferiority_margin = forms.DecimalField(
        required=False,
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        label=_("Non-inferiority margin"),
        help_text=_("How much worse than its baseline a guardrail may get, in the KPI's unit."),
    )


class KPIChoiceForm(forms.Form):
    kpi: forms.ModelChoiceField[KPI] = forms.ModelChoiceField(queryset=None, label=_("KPI"), empty_label=None)

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        kpis = initiative.kpis.order_by("-is_primary", "name")
        cast(forms.ModelChoiceField, self.fields["kpi"]).queryset = kpis


class MeasurementRowForm(forms.Form):
    period = MonthField(label=_("Period"))
    value = forms.CharField(max_length=60, label=_("Value"), help_text=_("A number, e.g. 37.5"))
    sample_size = forms.IntegerField(min_value=0, required=False, label=_("Sample size"))
    source = forms.CharField(max_length=200, label=_("Source"))


class KPISourceForm(KPIChoiceForm):
    """Where a KPI is measured from: one of the deployment's connectors and what it reads there."""

    connector = forms.ChoiceField(choices=(), label=_("Connector"))
    query = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        max_length=20_000,
        label=_("Query or file"),
        help_text=_(
            "SQL: one SELECT returning the columns period (first day of the month), value and, if known, "
            "sample_size, one row per month. File: the CSV's name in the connector's directory, with "
            "those columns as its header."
        ),
    )
    active = forms.BooleanField(
        required=False, initial=True, label=_("Read it on schedule"), help_text=_("Untick to pause it.")
    )

    def __init__(self, *args, initiative: Initiative, connectors, **kwargs):
        super().__init__(*args, initiative=initiative, **kwargs)
        cast(forms.ChoiceField, self.fields["connector"]).choices = [
            (c.name, f"{c.name} ({c.kind.upper()})") for c in connectors
        ]


MeasurementRowFormSet = forms.formset_factory(MeasurementRowForm, extra=3, max_num=24, absolute_max=24)


def _arm_fields() -> dict:
    number: dict[str, Any] = {
        "max_digits": KPI_MAX_DIGITS,
        "decimal_places": KPI_DECIMAL_PLACES,
        "required": False,
    }
    return {
        "control_size": forms.IntegerField(
            min_value=0, label=_("Control size"), help_text=_("Observations so far (cumulative).")
        ),
        "control_successes": forms.IntegerField(
            min_value=0, required=False, label=_("Control successes"), help_text=_("Proportions only.")
        ),
        "treatment_size": forms.IntegerField(min_value=0, label=_("Treatment size")),
        "treatment_successes": forms.IntegerField(
            min_value=0, required=False, label=_("Treatment successes"), help_text=_("Proportions only.")
        ),
        "control_mean": forms.DecimalField(label=_("Control mean"), help_text=_("Means only."), **number),
        "control_variance": forms.DecimalField(
            label=_("Control variance"), help_text=_("Means only: the sample variance."), **number
        ),
        "treatment_mean": forms.DecimalField(label=_("Treatment mean"), help_text=_("Means only."), **number),
        "treatment_variance": forms.DecimalField(
            label=_("Treatment variance"), help_text=_("Means only: the sample variance."), **number
        ),
    }


class ExperimentForm(KPIChoiceForm):
    """An A/B experiment and its first look: summaries only, ValueGate computes the verdict."""

    name = forms.CharField(max_length=200, label=_("Name"))
    metric = forms.ChoiceField(choices=Metric.choices, initial=Metric.PROPORTION, label=_("Metric"))
    success_definition = forms.CharField(
        max_length=200,
        label=_("Success definition"),
        help_text=_("What counts as a success (proportions) or what is measured (means)."),
    )
    looked_on = DayField(
        required=False, label=_("Looked on"), help_text=_("The day of these figures; today if empty.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_arm_fields())


class ExperimentLookForm(forms.Form):
    """A later look at an experiment: its cumulative figures on that day."""

    experiment: forms.ModelChoiceField[Experiment] = forms.ModelChoiceField(
        queryset=None, empty_label=None, label=_("Experiment")
    )
    looked_on = DayField(label=_("Looked on"))

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        experiments = Experiment.objects.filter(kpi__initiative=initiative).order_by("id")
        cast(forms.ModelChoiceField, self.fields["experiment"]).queryset = experiments
        self.fields.update(_arm_fields())


class ExperimentPlanForm(KPIChoiceForm):
    """A primary KPI's experiment plan, registered before its experiment's data."""

    metric = forms.ChoiceField(choices=Metric.choices, initial=Metric.PROPORTION, label=_("Metric"))
    baseline = forms.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        required=False,
        label=_("Baseline"),
        help_text=_(
            "The control arm's expected level as the experiment records it (a rate between 0 and 1, or "
            "a mean), when it is not the KPI's baseline; empty: the KPI's baseline."
        ),
    )
    minimum_effect = forms.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        required=False,
        label=_("Minimum effect"),
        help_text=_("The smallest improvement that matters, positive, in the baseline's unit."),
    )
    relative_lift = forms.DecimalField(
        max_digits=12,
        decimal_places=6,
        required=False,
        label=_("Or relative lift"),
        help_text=_("Instead of the minimum effect: the improvement relative to the baseline, 0.3 for +30%."),
    )
    treatment_share = forms.DecimalField(
        max_digits=5,
        decimal_places=4,
        initial="0.5",
        label=_("Treatment share"),
        help_text=_("Share of the units the treatment arm receives: 0.5 for 50/50."),
    )
    planned_looks = forms.IntegerField(
        min_value=1, max_value=120, label=_("Planned looks"), help_text=_("Monthly looks at the arms.")
    )
    traffic_per_month = forms.IntegerField(
        min_value=1,
        label=_("Traffic per month"),
        help_text=_("Units entering the experiment each month, both arms together."),
    )
    standard_deviation = forms.DecimalField(
        max_digits=KPI_MAX_DIGITS,
        decimal_places=KPI_DECIMAL_PLACES,
        required=False,
        label=_("Standard deviation"),
        help_text=_("Mean KPIs only: of one unit's value, from history."),
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Notes"))
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=_("Reason for a change"),
        help_text=_("Required once the KPI's experiments have data: the change stays visible."),
    )

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, initiative=initiative, **kwargs)
        kpis = initiative.kpis.filter(is_primary=True).order_by("name")
        cast(forms.ModelChoiceField, self.fields["kpi"]).queryset = kpis


class FinancialEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=EntryKind.choices, label=_("Kind"))
    month = MonthField(label=_("Month"))
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, label=_("Amount"))
    description = forms.CharField(max_length=200, required=False, label=_("Description"))


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices, label=_("Kind"))
    title = forms.CharField(max_length=200, label=_("Title"))
    file = forms.FileField(allow_empty_file=False, label=_("File"))
    replaces = forms.ModelChoiceField(
        queryset=Evidence.objects.none(),
        required=False,
        label=_("New version of"),
        help_text=_("Files are never overwritten: the earlier version stays on file."),
    )

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        # Translators: the file types accepted ("PDF, PNG, … or UTF-8 text"), their extensions
        # (".pdf, .png, …") and the largest size in megabytes.
        self.fields["file"].help_text = gettext(
            "%(types)s (%(extensions)s), at most %(size)s MB. The content is checked, not just the name."
        ) % {
            "types": ACCEPTED_LABELS,
            "extensions": ", ".join(ACCEPTED_EXTENSIONS),
            "size": f"{max_bytes() / (1024 * 1024):g}",
        }
        current = initiative.evidence.filter(replaced_by__isnull=True).order_by("id")
        cast(forms.ModelChoiceField, self.fields["replaces"]).queryset = current


class ReviewRequestForm(forms.Form):
    gate = forms.ChoiceField(choices=(), label=_("Gate"))

    def __init__(self, *args, gates: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Gate.choices)
        cast(forms.ChoiceField, self.fields["gate"]).choices = [(g, labels[g]) for g in gates]


class SignOffForm(forms.Form):
    function = forms.ChoiceField(choices=(), label=_("Signing for"))
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect, label=_("Decision"))
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        label=_("Rationale"),
        help_text=_("What you checked and why you decide so; it is kept in the ledger."),
    )

    def __init__(self, *args, functions: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f, function_name(f)) for f in functions]
        cast(forms.ChoiceField, self.fields["function"]).choices = choices
        if len(functions) == 1:
            self.fields["function"].initial = functions[0]
            self.fields["function"].widget = forms.HiddenInput()


class ConditionForm(forms.Form):
    text = forms.CharField(max_length=500, label=_("Condition"))
    due_on = DayField(label=_("Due on"))


ConditionFormSet = forms.formset_factory(ConditionForm, extra=2, max_num=10, absolute_max=10)


class HoldForm(forms.Form):
    reason = forms.CharField(widget=TEXTAREA, label=_("Reason"))
    revisit_on = DayField(label=_("Revisit on"))


class KillForm(forms.Form):
    reason = forms.CharField(widget=TEXTAREA, label=_("Reason"))


class ConditionCloseForm(forms.Form):
    note = forms.CharField(widget=TEXTAREA, label=_("Note"), help_text=_("How the condition was met."))


class LedgerExportForm(forms.Form):
    since = DayField(
        required=False, label=_("Since"), help_text=_("First UTC day (empty: from the first event).")
    )
    until = DayField(
        required=False, label=_("Until"), help_text=_("Last UTC day, included (empty: up to now).")
    )
    initiative = forms.ModelChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        label=_("Initiative"),
        help_text=_("Only this initiative's events; the others keep only their hashes."),
    )
    format = forms.ChoiceField(
        choices=[
            ("json", _("JSON (with the tree proof: verifiable offline)")),
            ("csv", _("CSV (for spreadsheets)")),
        ],
        label=_("Format"),
    )

    def __init__(self, *args, initiatives, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["initiative"]).queryset = initiatives.order_by("title")

    def clean(self):
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(gettext("The period's start comes after its end."))
        return cleaned
