"""Demo data: a committee, two project leads, initiatives in every stage, two cases from the field.

Everything goes through the services, on a simulated clock for the months of history, so the
ledger holds the whole story. Safe to run twice: what exists is left alone.

`--language zh-hans` tells the same story in Chinese: every free text the demo writes and the
people's names come from governance/management/demo_content.py, and the demo users prefer that
language; usernames, stages, dates and numbers stay those of the English demo.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from governance.access import roles
from governance.access.models import UserPreferences
from governance.commands import TranslatedCommand
from governance.management.demo_content import LANGUAGES, SOURCE_LANGUAGE, DemoContent
from governance.reviews.initiatives import (
    business_case_record,
    initiative_create,
    initiative_submit,
    kpi_define,
)
from governance.reviews.services import review_kill, review_open
from governance.reviews.signoffs import signoff_record
from governance.value.connectors.config import configured_connectors
from governance.value.connectors.services import kpi_source_read, kpi_source_register
from governance.value.plans import PlanInput, experiment_plan_register
from governance.value.services import (
    MeasurementInput,
    evidence_submit,
    experiment_look_record,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from projects.models import Initiative

DEMO_PASSWORD = "valuegate-demo"
SUMMARY_COUNTS = ("control_size", "control_successes", "treatment_size", "treatment_successes")

# username, first name, groups
DEMO_USERS = [
    ("chair", "Charlotte", [roles.COMMITTEE_CHAIR]),
    ("auditor", "Aude", [roles.AUDITORS]),
    ("govadmin", "Gustav", [roles.GOVERNANCE_ADMINS]),
    ("business", "Bianca", [roles.FUNCTION_GROUPS["business"]]),
    ("legal", "Leo", [roles.FUNCTION_GROUPS["legal"]]),
    ("finance", "Fiona", [roles.FUNCTION_GROUPS["finance"]]),
    ("technical", "Theo", [roles.FUNCTION_GROUPS["technical"]]),
    ("risk", "Rita", [roles.FUNCTION_GROUPS["risk_ethics"]]),
    ("lead-retail", "Rosa", [roles.PROJECT_LEADS]),
    ("lead-service", "Sam", [roles.PROJECT_LEADS]),
]
FOUR = ("business", "legal", "finance", "technical")

RETAIL_TITLE = "GenAI marketing copy for product pages"
SERVICE_TITLE = "Customer-service reply assistant"
# The embedded default's file-drop connector (config/settings.py), which the service pilot is read from.
DEMO_CONNECTOR = "file-drops"


def month_start(day: dt.date, offset: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + offset
    return dt.date(index // 12, index % 12 + 1, 1)


class Command(TranslatedCommand):
    help = gettext_lazy("Load the demo committee, project leads and initiatives (safe to run twice).")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--language",
            choices=LANGUAGES,
            default=SOURCE_LANGUAGE,
            help="The language of the demo's texts and names, and the demo users' preferred language "
            f"(default {SOURCE_LANGUAGE}).",
        )

    def handle(self, *args, **options) -> None:
        self.content = DemoContent(options["language"])
        # The story's notifications are kept in the outbox, not printed while seeding.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._seed()

    def _t(self, english: str, **values) -> str:
        return self.content.text(english, **values)

    def _seed(self) -> None:
        self.now = timezone.now()
        users = self._users()
        created = 0
        for english_title, build in [
            (SERVICE_TITLE, self._customer_service_case),
            (RETAIL_TITLE, self._retail_case),
            ("Contract clause extractor", self._draft),
            ("Invoice matching assistant", self._proposal),
            ("Demand forecasting assistant", self._in_scale),
            ("Meeting-notes summariser", self._retired),
            ("Emotion detection in job interviews", self._rejected),
        ]:
            title = self._t(english_title)
            if Initiative.objects.filter(title=title).exists():
                self.stdout.write(f"  exists: {title}")
                continue
            with transaction.atomic():
                build(title, users)
            created += 1
            self.stdout.write(f"  created: {title}")
        initiatives = "initiative" if created == 1 else "initiatives"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} {initiatives} created)."))

    def _users(self) -> dict:
        user_model = get_user_model()
        users = {}
        for username, english_first_name, groups in DEMO_USERS:
            first_name, last_name = self.content.names(username, english_first_name)
            user, made = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@valuegate.example",
                    "is_staff": True,
                },
            )
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(*Group.objects.filter(name__in=groups))
            if self.content.translated:
                self._prefer_language(user)
            users[username] = user
        return users

    def _prefer_language(self, user) -> None:
        """The demo's language for the user's pages and messages, unless they chose one already."""
        preferences, _ = UserPreferences.objects.get_or_create(user=user)
        if not preferences.language:
            preferences.language = self.content.language
            preferences.save(update_fields=["language"])

    # Building blocks -----------------------------------------------------------------------
    # Each takes the story's texts in English and writes them in the demo's language (self._t).

    def _described(
        self,
        title,
        lead,
        *,
        department,
        pain,
        process,
        kpi,
        budget,
        benefit,
        exit_criteria,
        risk_tier="limited",
        personal_data=False,
        missed_periods=3,
    ):
        initiative = initiative_create(
            actor=lead,
            title=title,
            department=self._t(department),
            pain_point=self._t(pain),
            process_embedding=self._t(process),
            risk_tier=risk_tier,
            uses_personal_data=personal_data,
        )
        business_case_record(
            actor=lead,
            initiative=initiative,
            budget=budget,
            expected_annual_benefit=benefit,
            horizon_months=36,
            exit_criteria=self._t(exit_criteria),
            missed_periods_to_retire=missed_periods,
            currency=self.content.currency,
        )
        words = {field: self._t(kpi[field]) for field in ("name", "unit", "data_source")}
        kpi_define(actor=lead, initiative=initiative, **{**kpi, **words})
        evidence_submit(
            actor=lead,
            initiative=initiative,
            kind="business_case",
            title=self._t("Business case"),
            file=ContentFile(
                self._t("Business case: {title}\n", title=title).encode(), name="business-case.txt"
            ),
        )
        if personal_data:
            evidence_submit(
                actor=lead,
                initiative=initiative,
                kind="privacy_impact",
                title=self._t("Privacy impact assessment"),
                file=ContentFile(self._t("DPIA for {title}\n", title=title).encode(), name="dpia.txt"),
            )
        return initiative

    def _through_pilot_gate(self, initiative, users, lead, at: dt.datetime):
        initiative_submit(actor=lead, initiative=initiative, now=at)
        review = review_open(actor=lead, initiative=initiative, now=at)
        for function in self._functions_for(initiative):
            signoff_record(
                actor=users[self._member(function)],
                review=review,
                function=function,
                decision="approve",
                rationale=self._t("Business case, KPI and evidence reviewed; the pilot is worth running."),
                now=at + dt.timedelta(days=2),
            )
        initiative.refresh_from_db()
        return initiative

    @staticmethod
    def _functions_for(initiative):
        return (*FOUR, "risk_ethics") if initiative.risk_tier == "high" else FOUR

    @staticmethod
    def _member(function):
        return "risk" if function == "risk_ethics" else function

    def _pilot_data(self, initiative, lead, kpi_values, experiment, cost, benefit, *, dropped_as: str = ""):
        """A pilot's months: reported by its lead, or (`dropped_as`, a CSV file's name) measured
        from the file its system of record drops for the file-drop connector, when one is set up."""
        kpi = initiative.kpis.get(is_primary=True)
        first = month_start(initiative.stage_entered_at.date(), 1)
        months = [(month_start(first, i), Decimal(v)) for i, v in enumerate(kpi_values)]
        drops = configured_connectors().get(DEMO_CONNECTOR)
        if dropped_as and drops is not None and drops.kind == "csv":
            directory = Path(drops.directory)
            directory.mkdir(parents=True, exist_ok=True)
            rows = "".join(f"{month:%Y-%m-%d},{value},5000\n" for month, value in months)
            (directory / dropped_as).write_text("period,value,sample_size\n" + rows, encoding="utf-8")
            source = kpi_source_register(
                actor=lead, kpi=kpi, connector=DEMO_CONNECTOR, query=dropped_as, now=self.now
            )
            kpi_source_read(source_id=source.pk, now=self.now)
        else:
            measurements_record(
                actor=lead,
                kpi=kpi,
                now=self.now,
                measurements=[
                    MeasurementInput(period=month, value=value, source=kpi.data_source, sample_size=5000)
                    for month, value in months
                ],
            )
        self._register_plan(lead, kpi, experiment, len(kpi_values))
        self._experiment_with_monthly_looks(lead, kpi, experiment, first, len(kpi_values))
        for i in range(len(kpi_values)):
            month = month_start(first, i)
            for kind, amount in (("cost", cost), ("benefit", benefit)):
                financial_entry_record(
                    actor=lead, initiative=initiative, kind=kind, month=month, amount=amount, now=self.now
                )
        evidence_submit(
            actor=lead,
            initiative=initiative,
            kind="pilot_report",
            title=self._t("Pilot report"),
            file=ContentFile(
                self._t("Pilot report: {title}\n", title=initiative.title).encode(), name="pilot-report.txt"
            ),
        )

    def _register_plan(self, lead, kpi, experiment, months: int):
        """The plan registered before the experiment's data: the split and traffic it then had,
        the KPI's claimed relative change as the minimum effect, on the control arm's rate."""
        rate = Decimal(experiment["control_successes"]) / Decimal(experiment["control_size"])
        units = experiment["control_size"] + experiment["treatment_size"]
        experiment_plan_register(
            actor=lead,
            kpi=kpi,
            plan=PlanInput(
                metric="proportion",
                baseline=rate.quantize(Decimal("0.0001")),
                relative_lift=abs((kpi.target - kpi.baseline) / kpi.baseline).quantize(Decimal("0.0001")),
                treatment_share=(Decimal(experiment["treatment_size"]) / units).quantize(Decimal("0.0001")),
                planned_looks=months,
                traffic_per_month=units // months,
            ),
            now=self.now,
        )

    def _experiment_with_monthly_looks(self, lead, kpi, experiment, first: dt.date, months: int):
        """The experiment as the committee saw it: one look at the end of each pilot month,
        cumulative counts growing evenly to the final ones."""
        final = {k: experiment[k] for k in SUMMARY_COUNTS}
        looks = [
            (
                min(month_start(first, i + 1) - dt.timedelta(days=1), self.now.date()),
                {k: v * (i + 1) // months for k, v in final.items()},
            )
            for i in range(months)
        ]
        looked_on, counts = looks[0]
        created = experiment_record(
            actor=lead,
            kpi=kpi,
            name=self._t(experiment["name"]),
            success_definition=self._t(experiment["success_definition"]),
            looked_on=looked_on,
            now=self.now,
            **counts,
        )
        for looked_on, counts in looks[1:]:
            experiment_look_record(
                actor=lead, experiment=created, looked_on=looked_on, now=self.now, **counts
            )

    # The cases -----------------------------------------------------------------------------

    def _customer_service_case(self, title, users):
        """Cut first response time by more than its −30% target; significant experiment."""
        lead = users["lead-service"]
        initiative = self._described(
            title,
            lead,
            department="Customer service",
            personal_data=True,
            pain="Customers wait an hour for a first reply; 18% of tickets breach the SLA.",
            process="Drafts a reply inside the ticketing tool for every new ticket; the agent edits and sends it.",
            kpi={
                "name": "First response time",
                "unit": "minutes",
                "direction": "decrease",
                "baseline": "60",
                "target": "42",
                "data_source": "Zendesk export, median per month",
            },
            budget="180000",
            benefit="420000",
            exit_criteria="Stop if first response time is not at least 30% lower after three months of pilot.",
        )
        initiative = self._through_pilot_gate(initiative, users, lead, self.now - dt.timedelta(days=150))
        self._pilot_data(
            initiative,
            lead,
            ["51", "44", "39", "37"],
            {
                "name": "Reply drafts vs. no drafts",
                "success_definition": "ticket waited over 30 minutes",
                "control_size": 4000,
                "control_successes": 2520,
                "treatment_size": 4000,
                "treatment_successes": 1880,
            },
            cost="15000",
            benefit="38000",
            dropped_as="first-response-time.csv",
        )
        review_open(actor=lead, initiative=initiative)

    def _retail_case(self, title, users):
        """Nine months of pilot; A/B shows +2.3% click-through against a +30% target, and the
        brand-tone guardrail is beyond its margin."""
        lead = users["lead-retail"]
        initiative = self._described(
            title,
            lead,
            department="E-commerce marketing",
            pain="Product pages convert poorly; copywriters cannot keep up with 40,000 SKUs.",
            process="Generates product-page copy in the PIM; a copywriter approves before publishing.",
            kpi={
                "name": "Click-through rate",
                "unit": "ratio",
                "direction": "increase",
                "baseline": "0.0400",
                "target": "0.0520",
                "data_source": "Web analytics, monthly",
            },
            budget="300000",
            benefit="900000",
            exit_criteria="Stop if click-through is not 30% higher than baseline after the pilot.",
        )
        # The guardrail the committee watches: generated copy must not cost the brand its voice.
        guardrail = kpi_define(
            actor=lead,
            initiative=initiative,
            name=self._t("Brand-tone violations"),
            unit=self._t("per 1,000 messages"),
            direction="decrease",
            baseline="2.0",
            target="1.5",
            data_source=self._t("Copywriter review log, monthly"),
            is_primary=False,
            is_guardrail=True,
            non_inferiority_margin="1.0",
        )
        initiative = self._through_pilot_gate(initiative, users, lead, self.now - dt.timedelta(days=280))
        # Beyond its margin of 1.0 from the fourth month: 3.8 per 1,000 against a baseline of 2.0.
        first = month_start(initiative.stage_entered_at.date(), 1)
        measurements_record(
            actor=lead,
            kpi=guardrail,
            now=self.now,
            measurements=[
                MeasurementInput(
                    period=month_start(first, i),
                    value=Decimal(v),
                    source=guardrail.data_source,
                    sample_size=12000,
                )
                for i, v in enumerate(["2.1", "2.6", "3.0", "3.4", "3.6", "3.8"])
            ],
        )
        self._pilot_data(
            initiative,
            lead,
            ["0.0405", "0.0411", "0.0408", "0.0409", "0.0410", "0.0409"],
            {
                "name": "Generated vs. human copy",
                "success_definition": "visitor clicked through",
                "control_size": 100000,
                "control_successes": 4000,
                "treatment_size": 100000,
                "treatment_successes": 4092,
            },
            cost="25000",
            benefit="6000",
        )
        review_open(actor=lead, initiative=initiative)

    def _draft(self, title, users):
        self._described(
            title,
            users["lead-service"],
            department="Legal",
            pain="Lawyers spend four hours per supplier contract finding non-standard clauses.",
            process="Flags clauses in the contract management system before legal review.",
            kpi={
                "name": "Review hours per contract",
                "unit": "hours",
                "direction": "decrease",
                "baseline": "4",
                "target": "2.5",
                "data_source": "Time tracking",
            },
            budget="90000",
            benefit="250000",
            exit_criteria="Stop if review time does not fall by a third.",
        )

    def _proposal(self, title, users):
        lead = users["lead-retail"]
        initiative = self._described(
            title,
            lead,
            department="Finance",
            pain="Accounts payable matches 12,000 invoices a month by hand.",
            process="Proposes purchase-order matches in the ERP; clerks confirm.",
            kpi={
                "name": "Invoices matched automatically",
                "unit": "%",
                "direction": "increase",
                "baseline": "35",
                "target": "70",
                "data_source": "ERP audit log",
            },
            budget="150000",
            benefit="380000",
            exit_criteria="Stop if automatic matching stays below 55%.",
        )
        initiative_submit(actor=lead, initiative=initiative)
        review = review_open(actor=lead, initiative=initiative)
        signoff_record(
            actor=users["legal"],
            review=review,
            function="legal",
            decision="approve",
            rationale=self._t("No personal data; supplier contracts allow processing."),
        )

    def _in_scale(self, title, users):
        lead = users["lead-retail"]
        initiative = self._described(
            title,
            lead,
            department="Supply chain",
            pain="Stock-outs on 7% of lines; forecasts are spreadsheets.",
            process="Feeds weekly demand forecasts into replenishment orders.",
            kpi={
                "name": "Stock-out rate",
                "unit": "%",
                "direction": "decrease",
                "baseline": "7",
                "target": "4",
                "data_source": "Warehouse system",
            },
            budget="220000",
            benefit="800000",
            exit_criteria="Stop if stock-outs are not below 5% after the pilot.",
        )
        initiative = self._through_pilot_gate(initiative, users, lead, self.now - dt.timedelta(days=330))
        self._pilot_data(
            initiative,
            lead,
            ["5.5", "4.6", "3.9", "3.6", "3.5", "3.4", "3.3", "3.2", "3.3", "3.1"],
            {
                "name": "Forecast-driven vs. manual replenishment",
                "success_definition": "line out of stock",
                "control_size": 20000,
                "control_successes": 1400,
                "treatment_size": 20000,
                "treatment_successes": 760,
            },
            cost="12000",
            benefit="60000",
        )
        review = review_open(actor=lead, initiative=initiative)
        for function in FOUR:
            signoff_record(
                actor=users[function],
                review=review,
                function=function,
                decision="approve",
                rationale=self._t("Pilot met its target with a significant experiment; ROI positive."),
            )

    def _retired(self, title, users):
        lead = users["lead-service"]
        initiative = self._described(
            title,
            lead,
            department="Operations",
            pain="Managers lose an hour a day writing meeting notes.",
            process="Summarises recorded meetings into the wiki.",
            kpi={
                "name": "Notes written within a day",
                "unit": "%",
                "direction": "increase",
                "baseline": "40",
                "target": "80",
                "data_source": "Wiki statistics",
            },
            budget="60000",
            benefit="90000",
            exit_criteria="Stop if adoption stays below 50% after two months.",
        )
        initiative = self._through_pilot_gate(initiative, users, lead, self.now - dt.timedelta(days=120))
        review = review_open(actor=lead, initiative=initiative, gate="scale")
        review_kill(
            actor=users["chair"],
            review=review,
            reason=self._t("Adoption stayed at 45%; the exit criteria are met. Pilot ended."),
        )

    def _rejected(self, title, users):
        lead = users["lead-retail"]
        initiative = self._described(
            title,
            lead,
            department="Human resources",
            risk_tier="high",
            personal_data=True,
            pain="Recruiters want to rank candidates faster.",
            process="Scores candidates' emotions from interview video.",
            kpi={
                "name": "Time to hire",
                "unit": "days",
                "direction": "decrease",
                "baseline": "45",
                "target": "30",
                "data_source": "Applicant tracking system",
            },
            budget="50000",
            benefit="100000",
            exit_criteria="Stop if time to hire does not fall by 10 days.",
        )
        initiative_submit(actor=lead, initiative=initiative)
        review = review_open(actor=lead, initiative=initiative)
        signoff_record(
            actor=users["legal"],
            review=review,
            function="legal",
            decision="reject",
            rationale=self._t(
                "Emotion recognition in recruitment is a prohibited practice under the EU AI Act."
            ),
        )
