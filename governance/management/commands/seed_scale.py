"""Fill a database at portfolio scale, fast: bulk inserts in batches, with progress output.

For benchmarks and load checks, not for the demo. Rows are written in bulk rather than through
the services (which would take hours at this size); the ledger events are real, signed with the
ledger's key and sequenced into its tree, so verify_ledger passes on the result.

Memory does not grow with the portfolio: each kind of row is generated a batch at a time, inserted
and dropped, and the rows that hang off the initiatives (KPIs, measurements, costs, reviews) are
built from the initiatives read back a chunk at a time. Only the new initiatives' and reviews'
ids are kept (the ledger's events name the initiatives in turn): under 3 MB at 50,000. The phases
run in the same order, drawing from one seeded random generator in the same order, so a seed gives
the same portfolio as when everything was built in memory at once.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import models, reset_queries, transaction
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

BATCH = 5000  # rows per INSERT, and the most model instances held at once
LEDGER_BATCH = BATCH * 4  # ledger events per transaction, each transaction sealed as it commits
CHUNK = 500  # initiatives read back at a time to build the rows that hang off them
STAGE_MIX = [
    (Stage.DRAFT, 20),
    (Stage.PROPOSAL, 20),
    (Stage.PILOT, 30),
    (Stage.SCALE, 20),
    (Stage.RETIRED, 5),
    (Stage.REJECTED, 5),
]
STAGES = [stage for stage, weight in STAGE_MIX for _ in range(weight)]  # initiative i's: STAGES[i % 100]
MEASURED = (Stage.PILOT, Stage.SCALE, Stage.RETIRED)  # stages with measurements, costs and a report
GATE_FOR: dict[str, str] = {
    Stage.PROPOSAL: "pilot",
    Stage.PILOT: "scale",
}  # stages seeded with an open review
SIGNING_FUNCTIONS = ("business", "legal", "finance", "technical")  # review n has the first n % 4
LEADS = 50
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


@dataclass(frozen=True)
class PortfolioShape:
    """How many rows of each kind a run writes, known before it writes any (for its progress)."""

    initiatives: int
    measured: int  # initiatives in a stage with measurements, costs and benefits
    reviewed: int  # initiatives with an open review
    months: int

    @classmethod
    def of(cls, initiatives: int, months: int) -> PortfolioShape:
        stages = [STAGES[i % len(STAGES)] for i in range(initiatives)]
        return cls(
            initiatives=initiatives,
            measured=sum(1 for stage in stages if stage in MEASURED),
            reviewed=sum(1 for stage in stages if stage in GATE_FOR),
            months=months,
        )

    @property
    def kpis(self) -> int:
        return 2 * self.initiatives  # a primary outcome and a satisfaction score each

    @property
    def measurements(self) -> int:
        return 2 * self.measured * self.months

    @property
    def entries(self) -> int:
        return 2 * self.measured * min(self.months, 12)  # a cost and a benefit a month, a year at most

    @property
    def evidence(self) -> int:
        return self.initiatives + self.measured  # a business case each, a pilot report if measured

    @property
    def signoffs(self) -> int:
        return sum(n % len(SIGNING_FUNCTIONS) for n in range(self.reviewed))


@dataclass(frozen=True)
class SeededInitiative:
    """What the rows hanging off an initiative are built from, read back from the database."""

    pk: int
    stage: str
    owner_id: int


class Progress:
    """A line each time a phase passes another tenth of its rows: long runs say how far they are."""

    def __init__(self, write: Callable[[str], None] | None, phase: str, total: int) -> None:
        self.write, self.phase, self.total = write, phase, total
        self.done = 0
        self.tenths_shown = 0

    def advance(self, rows: int) -> None:
        self.done += rows
        tenths = self.done * 10 // self.total if self.total else 10
        if self.write is None or tenths <= self.tenths_shown:
            return
        self.tenths_shown = tenths
        # Translators: a progress line of seed_scale. %(phase)s names the rows ("measurements");
        # %(done)s and %(total)s are numbers with thousands separators; %(share)s a percentage ("40%").
        line = _("%(phase)s: %(done)s of %(total)s (%(share)s)") % {
            "phase": self.phase,
            "done": f"{self.done:,}",
            "total": f"{self.total:,}",
            "share": f"{self.done * 100 // self.total if self.total else 100}%",
        }
        self.write(f"  {line}")


def forget_queries() -> None:
    """With DEBUG on (the embedded default) Django keeps the SQL of the last 9,000 queries, an
    insert's with every row's values (about 0.5 MB for a batch of measurements, 2 MB for one of
    ledger events), and a command has no request whose start would clear the log: kept, it grew
    with the portfolio (40 MB more at 10,000 initiatives without ledger events)."""
    reset_queries()


def batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


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
        self.verbose = options["verbosity"] >= 1
        self.random = random.Random(options["seed"])
        self.now = timezone.now()
        self.this_month = self.now.date().replace(day=1)
        shape = PortfolioShape.of(count, months)
        started = time.monotonic()
        with transaction.atomic():
            people = self._people()
            initiative_ids = self._initiatives(shape, people)
            self._portfolio_rows(shape, initiative_ids)
            self._reviews(shape, initiative_ids, people)
        self._ledger(events, initiative_ids, people)
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
                    "kpis": _counted(ngettext("%(count)s KPI", "%(count)s KPIs", shape.kpis), shape.kpis),
                    "measurements": _counted(
                        ngettext("%(count)s measurement", "%(count)s measurements", shape.measurements),
                        shape.measurements,
                    ),
                    "events": _counted(
                        ngettext("%(count)s ledger event", "%(count)s ledger events", events), events
                    ),
                    "seconds": f"{time.monotonic() - started:.0f}",
                }
            )
        )

    # Writing in batches ------------------------------------------------------------------------

    def _progress(self, phase: str, total: int) -> Progress:
        return Progress(self._say if self.verbose else None, phase, total)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # seen as it happens when the output is a pipe or a file, too

    def _insert(
        self,
        model: type[models.Model],
        rows: Iterable[models.Model],
        phase: str,
        total: int,
        *,
        keep_ids: bool = False,
    ) -> list[int]:
        """bulk_create `rows` a batch at a time, as they are generated, and drop each batch; the
        new rows' ids if `keep_ids` (for the few kinds other rows are built from)."""
        progress = self._progress(phase, total)
        ids: list[int] = []
        for batch in batches(rows, BATCH):
            created = model._default_manager.bulk_create(batch)
            if keep_ids:
                ids += [row.pk for row in created]
            forget_queries()
            progress.advance(len(batch))
        return ids

    def _initiative_chunks(self, initiative_ids: Sequence[int]) -> Iterator[list[SeededInitiative]]:
        """This run's initiatives, read back CHUNK at a time in the order they were created."""
        for start in range(0, len(initiative_ids), CHUNK):
            chunk = initiative_ids[start : start + CHUNK]
            yield [
                SeededInitiative(*row)
                for row in Initiative.objects.filter(pk__in=chunk)
                .order_by("pk")
                .values_list("pk", "stage", "owner_id")
            ]

    def _measured(self, initiative_ids: Sequence[int]) -> Iterator[SeededInitiative]:
        for chunk in self._initiative_chunks(initiative_ids):
            yield from (i for i in chunk if i.stage in MEASURED)

    def _measured_kpis(self, initiative_ids: Sequence[int]) -> Iterator[tuple[int, int, bool]]:
        """(KPI id, its initiative's owner id, primary?) of the measured initiatives, in the order
        the KPIs were created."""
        for chunk in self._initiative_chunks(initiative_ids):
            owners = {i.pk: i.owner_id for i in chunk if i.stage in MEASURED}
            for kpi_id, initiative_id, is_primary in (
                KPI.objects.filter(initiative_id__in=list(owners))
                .order_by("pk")
                .values_list("pk", "initiative_id", "is_primary")
            ):
                yield kpi_id, owners[initiative_id], is_primary

    # The portfolio -----------------------------------------------------------------------------

    def _people(self) -> dict:
        user_model = get_user_model()
        password = make_password(None)  # unusable: scale users never log in
        wanted = [f"scale-lead-{i}" for i in range(LEADS)] + [
            f"scale-{code}" for code in roles.FUNCTION_GROUPS
        ]
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
        for i in range(LEADS):
            users[f"scale-lead-{i}"].groups.add(leads_group)
        for code, group in roles.FUNCTION_GROUPS.items():
            users[f"scale-{code}"].groups.add(Group.objects.get(name=group))
        return {
            "leads": [users[f"scale-lead-{i}"] for i in range(LEADS)],
            "members": {code: users[f"scale-{code}"] for code in roles.FUNCTION_GROUPS},
        }

    def _initiatives(self, shape: PortfolioShape, people) -> list[int]:
        def rows() -> Iterator[Initiative]:
            for i in range(shape.initiatives):
                stage = STAGES[i % len(STAGES)]
                entered = self.now - dt.timedelta(days=self.random.randint(10, 400))
                yield Initiative(
                    title=f"Scale initiative {i:05d}",
                    owner=people["leads"][i % LEADS],
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

        return self._insert(Initiative, rows(), _("initiatives"), shape.initiatives, keep_ids=True)

    def _portfolio_rows(self, shape: PortfolioShape, initiative_ids: Sequence[int]) -> None:
        self._insert(
            BusinessCase,
            (
                BusinessCase(
                    initiative_id=pk,
                    budget=Decimal("100000"),
                    expected_annual_benefit=Decimal("300000"),
                    horizon_months=36,
                    exit_criteria="Stop if the primary KPI misses for three months.",
                )
                for pk in initiative_ids
            ),
            _("business cases"),
            shape.initiatives,
        )
        self._insert(KPI, self._kpis(initiative_ids), _("KPIs"), shape.kpis)
        self._insert(
            KPIMeasurement,
            self._measurements(initiative_ids, shape.months),
            _("measurements"),
            shape.measurements,
        )
        self._insert(
            Experiment,
            (
                Experiment(
                    kpi_id=kpi_id,
                    name="A/B test",
                    success_definition="converted",
                    control_size=5000,
                    control_successes=500,
                    treatment_size=5000,
                    treatment_successes=self.random.randint(480, 700),
                    recorded_by_id=owner_id,
                )
                for kpi_id, owner_id, is_primary in self._measured_kpis(initiative_ids)
                if is_primary
            ),
            _("experiments"),
            shape.measured,
        )
        self._insert(
            FinancialEntry,
            self._entries(initiative_ids, shape.months),
            _("costs and benefits"),
            shape.entries,
        )
        self._insert(Evidence, self._evidence(initiative_ids), _("evidence"), shape.evidence)

    def _kpis(self, initiative_ids: Sequence[int]) -> Iterator[KPI]:
        for pk in initiative_ids:
            yield KPI(
                initiative_id=pk,
                name="Primary outcome",
                unit="%",
                direction="increase",
                baseline=Decimal("10"),
                target=Decimal("13"),
                data_source="BI",
                is_primary=True,
            )
            yield KPI(
                initiative_id=pk,
                name="Satisfaction",
                unit="score",
                direction="increase",
                baseline=Decimal("3.5"),
                target=Decimal("4"),
                data_source="Survey",
                is_primary=False,
            )

    def _measurements(self, initiative_ids: Sequence[int], months: int) -> Iterator[KPIMeasurement]:
        for kpi_id, owner_id, _primary in self._measured_kpis(initiative_ids):
            for n in range(months):
                yield KPIMeasurement(
                    kpi_id=kpi_id,
                    period=month_start(self.this_month, -months + n),
                    value=Decimal(self.random.randint(900, 1500)) / 100,
                    sample_size=1000,
                    source="BI",
                    recorded_by_id=owner_id,
                )

    def _entries(self, initiative_ids: Sequence[int], months: int) -> Iterator[FinancialEntry]:
        for initiative in self._measured(initiative_ids):
            for n in range(min(months, 12)):
                month = month_start(self.this_month, -n - 1)
                yield FinancialEntry(
                    initiative_id=initiative.pk,
                    kind=EntryKind.COST,
                    month=month,
                    amount=Decimal("8000"),
                    recorded_by_id=initiative.owner_id,
                )
                yield FinancialEntry(
                    initiative_id=initiative.pk,
                    kind=EntryKind.BENEFIT,
                    month=month,
                    amount=Decimal(self.random.randint(2000, 30000)),
                    recorded_by_id=initiative.owner_id,
                )

    def _evidence(self, initiative_ids: Sequence[int]) -> Iterator[Evidence]:
        for chunk in self._initiative_chunks(initiative_ids):
            for initiative in chunk:
                kinds = (
                    ("business_case", "pilot_report") if initiative.stage in MEASURED else ("business_case",)
                )
                for kind in kinds:
                    yield Evidence(
                        initiative_id=initiative.pk,
                        kind=kind,
                        title=kind.replace("_", " "),
                        file=f"evidence/scale/{kind}.bin",
                        sha256=f"{initiative.pk:064x}",
                        submitted_by_id=initiative.owner_id,
                    )

    def _reviews(self, shape: PortfolioShape, initiative_ids: Sequence[int], people) -> None:
        policies = {p.gate: p for p in GatePolicy.objects.order_by("gate", "-version")}

        def reviews() -> Iterator[GateReview]:
            for chunk in self._initiative_chunks(initiative_ids):
                for initiative in chunk:
                    if initiative.stage in GATE_FOR:
                        gate = GATE_FOR[initiative.stage]
                        yield GateReview(
                            initiative_id=initiative.pk,
                            gate=gate,
                            policy=policies[gate],
                            requested_by_id=initiative.owner_id,
                            opened_at=self.now - dt.timedelta(days=self.random.randint(1, 60)),
                        )

        review_ids = self._insert(GateReview, reviews(), _("open reviews"), shape.reviewed, keep_ids=True)
        self._insert(SignOff, self._signoffs(review_ids, people), _("sign-offs"), shape.signoffs)

    def _signoffs(self, review_ids: Sequence[int], people) -> Iterator[SignOff]:
        functions = {f.code: f for f in CommitteeFunction.objects.all()}
        n = 0  # the review's place in the run: review n has the first n % 4 functions' approvals
        for start in range(0, len(review_ids), CHUNK):
            chunk = review_ids[start : start + CHUNK]
            for review_id, opened_at in (
                GateReview.objects.filter(pk__in=chunk).order_by("pk").values_list("pk", "opened_at")
            ):
                for code in SIGNING_FUNCTIONS[: n % len(SIGNING_FUNCTIONS)]:
                    yield SignOff(
                        review_id=review_id,
                        function=functions[code],
                        reviewer=people["members"][code],
                        decision="approve",
                        rationale="Reviewed.",
                        digest="0" * 64,
                        signed_at=opened_at + dt.timedelta(days=1),
                    )
                n += 1

    # The ledger --------------------------------------------------------------------------------

    def _ledger(self, total: int, initiative_ids: Sequence[int], people) -> None:
        """Append `total` signed events, a batch per transaction, each batch sequenced as it commits."""
        if not total:
            return
        key = ledger_signing_key()
        actor = people["leads"][0]
        at = utc_text(self.now)
        progress = self._progress(_("ledger events"), total)
        done = 0
        while done < total:
            with transaction.atomic():
                rows = []
                for n in range(done + 1, done + 1 + min(LEDGER_BATCH, total - done)):
                    initiative_id = initiative_ids[n % len(initiative_ids)]
                    payload_text = canonical_json({"n": n, "value": Decimal(n % 1000) / 10})
                    action = LEDGER_ACTIONS[n % len(LEDGER_ACTIONS)]
                    nonce = secrets.token_hex(16)
                    digest, signature = sign_event(
                        key,
                        recorded_at=at,
                        actor_id=actor.pk,
                        actor=actor.username,
                        action=action,
                        initiative=initiative_id,
                        nonce=nonce,
                        payload=payload_text,
                    )
                    rows.append(
                        LedgerEvent(
                            recorded_at=self.now,
                            actor=actor,
                            actor_name=actor.username,
                            action=action,
                            initiative_id=initiative_id,
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
            forget_queries()
            progress.advance(len(rows))
