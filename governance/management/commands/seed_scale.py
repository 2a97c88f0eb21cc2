"""Fill a database at portfolio scale, fast: bulk inserts with progress output.

For benchmarks and load checks, not for the demo. Rows are written in bulk rather than through
the services (which would take hours at this size); the ledger events are real, signed with the
ledger's key and sequenced into its tree, so verify_ledger passes on the result.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import sys
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.access import roles
from governance.access.models import CommitteeFunction
from governance.commands import TranslatedCommand
from governance.ledger.canonical import canonical_json, utc_text
from governance.ledger.content import sign_event
from governance.ledger.models import LedgerEvent
from governance.ledger.sequencer import seal_pending
from governance.ledger.signing import ledger_signing_key
from governance.reviews.models import GatePolicy, GateReview, SignOff
from projects.models import (
    KPI,
    BusinessCase,
    Evidence,
    Experiment,
    FinancialEntry,
    Initiative,
    KPIMeasurement,
)
from projects.vocabulary import EntryKind, Stage

BATCH = 5000
STAGE_MIX = [
    (Stage.DRAFT, 20),
    (Stage.PROPOSAL, 20),
    (Stage.PILOT, 30),
    (Stage.SCALE, 20),
    (Stage.RETIRED, 5),
    (Stage.REJECTED, 5),
]
DEPARTMENTS = ["Customer service", "Marketing", "Finance", "Supply chain", "Legal", "HR", "IT", "Sales"]
LEDGER_ACTIONS = [
    "kpi.measurements_recorded",
    "evidence.submitted",
    "signoff.recorded",
    "review.opened",
    "experiment.recorded",
    "financial_entry.recorded",
]


def _counted(words: str, count: int) -> str:
    """A counted phrase ("3 KPIs"), its number with thousands separators."""
    return words % {"count": f"{count:,}"}


def month_start(day: dt.date, offset: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + offset
    return dt.date(index // 12, index % 12 + 1, 1)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Fill the database with a realistic portfolio at scale (bulk inserts, progress output)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--initiatives", type=int, default=10_000)
        parser.add_argument("--measurements-per-kpi", type=int, default=24)
        parser.add_argument("--ledger-events", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options) -> None:
        count, months, events = (
            options["initiatives"],
            options["measurements_per_kpi"],
            options["ledger_events"],
        )
        if count < 1 or months < 0 or events < 0:
            raise CommandError(_("--initiatives must be positive; the other counts cannot be negative."))
        self.random = random.Random(options["seed"])
        self.now = timezone.now()
        started = time.monotonic()
        with transaction.atomic():
            people = self._people()
            initiatives = self._initiatives(count, people)
            kpis, measurements = self._portfolio_rows(initiatives, months, people)
            self._reviews(initiatives, people)
        self._ledger(events, initiatives, people)
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    # Translators: %(initiatives)s is a number with thousands separators; %(kpis)s,
                    # %(measurements)s and %(events)s are counted phrases ("3 KPIs", "72 measurements",
                    # "1,000 ledger events"); %(seconds)s a duration.
                    "Seeded %(initiatives)s initiative, %(kpis)s, %(measurements)s and %(events)s in %(seconds)s s.",
                    "Seeded %(initiatives)s initiatives, %(kpis)s, %(measurements)s and %(events)s in %(seconds)s s.",
                    count,
                )
                % {
                    "initiatives": f"{count:,}",
                    "kpis": _counted(ngettext("%(count)s KPI", "%(count)s KPIs", len(kpis)), len(kpis)),
                    "measurements": _counted(
                        ngettext("%(count)s measurement", "%(count)s measurements", measurements),
                        measurements,
                    ),
                    "events": _counted(
                        ngettext("%(count)s ledger event", "%(count)s ledger events", events), events
                    ),
                    "seconds": f"{time.monotonic() - started:.0f}",
                }
            )
        )

    def _progress(self, label: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r  {label}: {done:,}/{total:,}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _bulk(self, model, rows, label: str) -> list:
        created = []
        for start in range(0, len(rows), BATCH):
            created += model.objects.bulk_create(rows[start : start + BATCH])
            self._progress(label, min(start + BATCH, len(rows)), len(rows))
        return created

    def _people(self) -> dict:
        user_model = get_user_model()
        password = make_password(None)  # unusable: scale users never log in
        wanted = [f"scale-lead-{i}" for i in range(50)] + [f"scale-{code}" for code in roles.FUNCTION_GROUPS]
        existing = set(user_model.objects.filter(username__in=wanted).values_list("username", flat=True))
        user_model.objects.bulk_create(
            [
                user_model(username=name, password=password, email=f"{name}@scale.example")
                for name in wanted
                if name not in existing
            ]
        )
        users = {u.username: u for u in user_model.objects.filter(username__in=wanted)}
        leads_group = Group.objects.get(name=roles.PROJECT_LEADS)
        for i in range(50):
            users[f"scale-lead-{i}"].groups.add(leads_group)
        for code, group in roles.FUNCTION_GROUPS.items():
            users[f"scale-{code}"].groups.add(Group.objects.get(name=group))
        return {
            "leads": [users[f"scale-lead-{i}"] for i in range(50)],
            "members": {code: users[f"scale-{code}"] for code in roles.FUNCTION_GROUPS},
        }

    def _initiatives(self, count: int, people) -> list[Initiative]:
        stages = [stage for stage, weight in STAGE_MIX for _ in range(weight)]
        rows = []
        for i in range(count):
            stage = stages[i % len(stages)]
            entered = self.now - dt.timedelta(days=self.random.randint(10, 400))
            rows.append(
                Initiative(
                    title=f"Scale initiative {i:05d}",
                    owner=people["leads"][i % 50],
                    department=DEPARTMENTS[i % len(DEPARTMENTS)],
                    pain_point="Manual work that costs hours each week.",
                    process_embedding="Embedded in the team's operational tool.",
                    risk_tier="high" if i % 10 == 0 else "limited",
                    uses_personal_data=i % 4 == 0,
                    stage=stage,
                    stage_entered_at=entered,
                    pilot_deadline=(entered + dt.timedelta(days=180)).date()
                    if stage == Stage.PILOT
                    else None,
                )
            )
        return self._bulk(Initiative, rows, _("initiatives"))

    def _portfolio_rows(self, initiatives, months: int, people) -> tuple[list[KPI], int]:
        self._bulk(
            BusinessCase,
            [
                BusinessCase(
                    initiative=i,
                    budget=Decimal("100000"),
                    expected_annual_benefit=Decimal("300000"),
                    horizon_months=36,
                    exit_criteria="Stop if the primary KPI misses for three months.",
                )
                for i in initiatives
            ],
            _("business cases"),
        )
        kpis = []
        for initiative in initiatives:
            kpis.append(
                KPI(
                    initiative=initiative,
                    name="Primary outcome",
                    unit="%",
                    direction="increase",
                    baseline=Decimal("10"),
                    target=Decimal("13"),
                    data_source="BI",
                    is_primary=True,
                )
            )
            kpis.append(
                KPI(
                    initiative=initiative,
                    name="Satisfaction",
                    unit="score",
                    direction="increase",
                    baseline=Decimal("3.5"),
                    target=Decimal("4"),
                    data_source="Survey",
                    is_primary=False,
                )
            )
        kpis = self._bulk(KPI, kpis, _("KPIs"))
        owners = {i.pk: i.owner for i in initiatives}
        this_month = self.now.date().replace(day=1)
        measured = [k for k in kpis if k.initiative.stage in (Stage.PILOT, Stage.SCALE, Stage.RETIRED)]
        rows = [
            KPIMeasurement(
                kpi=kpi,
                period=month_start(this_month, -months + n),
                value=Decimal(self.random.randint(900, 1500)) / 100,
                sample_size=1000,
                source="BI",
                recorded_by=owners[kpi.initiative_id],
            )
            for kpi in measured
            for n in range(months)
        ]
        self._bulk(KPIMeasurement, rows, _("measurements"))
        self._bulk(
            Experiment,
            [
                Experiment(
                    kpi=kpi,
                    name="A/B test",
                    success_definition="converted",
                    control_size=5000,
                    control_successes=500,
                    treatment_size=5000,
                    treatment_successes=self.random.randint(480, 700),
                    recorded_by=owners[kpi.initiative_id],
                )
                for kpi in measured
                if kpi.is_primary
            ],
            _("experiments"),
        )
        entries = []
        for initiative in initiatives:
            if initiative.stage in (Stage.PILOT, Stage.SCALE, Stage.RETIRED):
                for n in range(min(months, 12)):
                    month = month_start(this_month, -n - 1)
                    entries.append(
                        FinancialEntry(
                            initiative=initiative,
                            kind=EntryKind.COST,
                            month=month,
                            amount=Decimal("8000"),
                            recorded_by=initiative.owner,
                        )
                    )
                    entries.append(
                        FinancialEntry(
                            initiative=initiative,
                            kind=EntryKind.BENEFIT,
                            month=month,
                            amount=Decimal(self.random.randint(2000, 30000)),
                            recorded_by=initiative.owner,
                        )
                    )
        self._bulk(FinancialEntry, entries, _("costs and benefits"))
        self._bulk(
            Evidence,
            [
                Evidence(
                    initiative=i,
                    kind=kind,
                    title=kind.replace("_", " "),
                    file=f"evidence/scale/{kind}.bin",
                    sha256=f"{i.pk:064x}",
                    submitted_by=i.owner,
                )
                for i in initiatives
                for kind in ("business_case", "pilot_report")
                if kind == "business_case" or i.stage in (Stage.PILOT, Stage.SCALE, Stage.RETIRED)
            ],
            _("evidence"),
        )
        return kpis, len(rows)

    def _reviews(self, initiatives, people) -> None:
        policies = {p.gate: p for p in GatePolicy.objects.order_by("gate", "-version")}
        gate_for = {Stage.PROPOSAL: "pilot", Stage.PILOT: "scale"}
        reviews = [
            GateReview(
                initiative=i,
                gate=gate_for[i.stage],
                policy=policies[gate_for[i.stage]],
                requested_by=i.owner,
                opened_at=self.now - dt.timedelta(days=self.random.randint(1, 60)),
            )
            for i in initiatives
            if i.stage in gate_for
        ]
        reviews = self._bulk(GateReview, reviews, _("open reviews"))
        functions = {f.code: f for f in CommitteeFunction.objects.all()}
        signoffs = []
        for n, review in enumerate(reviews):
            for code in ("business", "legal", "finance", "technical")[: n % 4]:
                signoffs.append(
                    SignOff(
                        review=review,
                        function=functions[code],
                        reviewer=people["members"][code],
                        decision="approve",
                        rationale="Reviewed.",
                        digest="0" * 64,
                        signed_at=review.opened_at + dt.timedelta(days=1),
                    )
                )
        self._bulk(SignOff, signoffs, _("sign-offs"))

    def _ledger(self, total: int, initiatives, people) -> None:
        """Append `total` signed events, a batch per transaction, each batch sequenced as it commits."""
        if not total:
            return
        key = ledger_signing_key()
        actor = people["leads"][0]
        at = utc_text(self.now)
        done = 0
        while done < total:
            with transaction.atomic():
                rows = []
                for n in range(done + 1, done + 1 + min(BATCH * 4, total - done)):
                    initiative = initiatives[n % len(initiatives)]
                    payload_text = canonical_json({"n": n, "value": Decimal(n % 1000) / 10})
                    action = LEDGER_ACTIONS[n % len(LEDGER_ACTIONS)]
                    nonce = secrets.token_hex(16)
                    digest, signature = sign_event(
                        key,
                        recorded_at=at,
                        actor_id=actor.pk,
                        actor=actor.username,
                        action=action,
                        initiative=initiative.pk,
                        nonce=nonce,
                        payload=payload_text,
                    )
                    rows.append(
                        LedgerEvent(
                            recorded_at=self.now,
                            actor=actor,
                            actor_name=actor.username,
                            action=action,
                            initiative_id=initiative.pk,
                            payload=payload_text,
                            nonce=nonce,
                            key_id=key.key_id,
                            signature=signature,
                            hash=digest,
                        )
                    )
                LedgerEvent.objects.bulk_create(rows, batch_size=BATCH)
                done += len(rows)
            seal_pending()
            self._progress(_("ledger events"), done, total)
