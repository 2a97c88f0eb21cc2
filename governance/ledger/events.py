"""The catalogue of ledger events: every action the ledger records, declared once.

Each event type has a stable code (the `action` column; stored history is hashed over it, so a
code never changes), a label for people, and the schema of its payload as stored, that is after
the canonical JSON round-trip (governance/ledger/canonical.py): decimals, dates and datetimes are text.
Services append through these declarations (`ledger_append(action=SIGNOFF_RECORDED, ...)`), and
ledger_append refuses an event the catalogue does not declare, or whose payload does not match
its schema, before anything is written. Readers — the admin's filters, the exports, the rebuild
of what a signer saw — take codes and labels from here.

A payload schema names the keys every event carries and the keys some carry (`optional(...)`);
a key not named is refused. Declaring a new event is one `declare(...)` call below, in the
section of the room that writes it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class UnknownLedgerEvent(ValueError):
    """An append names an action the catalogue does not declare: a programming error."""


class PayloadMismatch(ValueError):
    """An append's payload does not match its event's schema: a programming error."""

    def __init__(self, code: str, problems: list[str]):
        super().__init__(
            f"The payload of {code!r} does not match the catalogue: " + "; ".join(problems) + "."
        )
        self.code = code
        self.problems = problems


# Kinds of stored values ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Kind:
    """What one stored JSON value must be; `problem` says why a value is not that (None: it is)."""

    name: str
    test: Callable[[Any], bool] = field(repr=False, compare=False)

    def problem(self, value: Any, where: str) -> str | None:
        return None if self.test(value) else f"{where} should be {self.name}, not {_shown(value)}"

    def __str__(self) -> str:
        return self.name


def _is_decimal_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _is_date_text(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime_text(value: Any) -> bool:
    # canonical_json writes every datetime in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", value):
        return False
    try:
        dt.datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


TEXT = Kind("text", lambda v: isinstance(v, str))
INT = Kind("int", lambda v: isinstance(v, int) and not isinstance(v, bool))
BOOL = Kind("bool", lambda v: isinstance(v, bool))
DECIMAL = Kind("decimal", _is_decimal_text)  # a Decimal, stored as its exact digits
DATE = Kind("date", _is_date_text)  # stored as YYYY-MM-DD
DATETIME = Kind("datetime", _is_datetime_text)  # stored in UTC
JSON = Kind("any", lambda v: True)  # any JSON value (what canonical JSON can hold)
# A reason as a code with parameters: {"code": "kpi.target_missed", "params": {...}}.
REASON = Kind(
    "reason",
    lambda v: isinstance(v, dict) and isinstance(v.get("code"), str) and isinstance(v.get("params"), dict),
)


@dataclass(frozen=True, eq=False)
class Nullable(Kind):
    kind: Kind = TEXT

    def problem(self, value: Any, where: str) -> str | None:
        return None if value is None else self.kind.problem(value, where)


def nullable(kind: Kind) -> Nullable:
    return Nullable(f"{kind.name} or null", lambda v: True, kind)


@dataclass(frozen=True, eq=False)
class ListOf(Kind):
    item: Kind = TEXT

    def problem(self, value: Any, where: str) -> str | None:
        if not isinstance(value, list):
            return f"{where} should be {self.name}, not {_shown(value)}"
        for index, item in enumerate(value):
            if (problem := self.item.problem(item, f"{where}[{index}]")) is not None:
                return problem
        return None


def list_of(item: Kind) -> ListOf:
    return ListOf(f"list of {item.name}", lambda v: True, item)


@dataclass(frozen=True, eq=False)
class MapOf(Kind):
    """An object whose keys are free (e.g. rule names) and whose values are all of one kind."""

    value: Kind = JSON

    def problem(self, value: Any, where: str) -> str | None:
        if not isinstance(value, dict):
            return f"{where} should be {self.name}, not {_shown(value)}"
        for key, item in value.items():
            if (problem := self.value.problem(item, f"{where}.{key}")) is not None:
                return problem
        return None


def map_of(value: Kind) -> MapOf:
    return MapOf(f"object of {value.name}", lambda v: True, value)


@dataclass(frozen=True)
class OptionalKey:
    """A key some payloads of the event carry and others do not."""

    kind: Kind


def optional(kind: Kind) -> OptionalKey:
    return OptionalKey(kind)


@dataclass(frozen=True, eq=False)
class Shape(Kind):
    """A JSON object with named keys: `required` always present, `optional` sometimes, no others."""

    required: Mapping[str, Kind] = field(default_factory=dict)
    optional: Mapping[str, Kind] = field(default_factory=dict)

    def problem(self, value: Any, where: str) -> str | None:
        problems = self.problems(value, where)
        return problems[0] if problems else None

    def problems(self, value: Any, where: str = "payload") -> list[str]:
        if not isinstance(value, dict):
            return [f"{where} should be an object, not {_shown(value)}"]
        problems = [f"{where} lacks {key!r}" for key in self.required if key not in value]
        problems += [
            f"{where} has {key!r}, which the event does not declare"
            for key in value
            if key not in self.required and key not in self.optional
        ]
        for key, item in value.items():
            kind = self.required.get(key) or self.optional.get(key)
            if kind is not None and (problem := kind.problem(item, f"{where}.{key}")) is not None:
                problems.append(problem)
        return problems

    def keys(self) -> list[tuple[str, Kind, bool]]:
        """(key, kind, required) in declaration order, required keys first."""
        return [(k, v, True) for k, v in self.required.items()] + [
            (k, v, False) for k, v in self.optional.items()
        ]


def shape(**keys: Kind | OptionalKey) -> Shape:
    required = {k: v for k, v in keys.items() if not isinstance(v, OptionalKey)}
    optional_keys = {k: v.kind for k, v in keys.items() if isinstance(v, OptionalKey)}
    return Shape("object", lambda v: True, required, optional_keys)


def describe(kind: Kind) -> str:
    """A kind in words, nested shapes spelled out: `{kpi: int, note?: text}` (`?`: optional key)."""
    if isinstance(kind, Shape):
        return "{" + ", ".join(f"{k}{'' if req else '?'}: {describe(v)}" for k, v, req in kind.keys()) + "}"
    if isinstance(kind, ListOf):
        return f"list of {describe(kind.item)}"
    if isinstance(kind, MapOf):
        return f"object of {describe(kind.value)}"
    if isinstance(kind, Nullable):
        return f"{describe(kind.kind)} or null"
    return kind.name


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


# Event types and the catalogue -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LedgerEventType:
    """One kind of ledger event: its stored code, its label, its payload schema.

    `payload` None accepts any JSON object; only events declared for tests of the chain itself
    (which hash arbitrary payloads) use it.
    """

    code: str
    label: str | Promise  # a lazy translation: rendered in the reader's language
    payload: Shape | None

    def problems(self, payload: Any) -> list[str]:
        if self.payload is None:
            return (
                [] if isinstance(payload, dict) else [f"payload should be an object, not {_shown(payload)}"]
            )
        return self.payload.problems(payload)

    def __str__(self) -> str:
        return self.code


# code -> event type, in declaration order (the order the admin and README list them in).
CATALOGUE: dict[str, LedgerEventType] = {}
# Events declared for the duration of a `declared()` block (tests of the chain, benchmarks).
_extra: dict[str, LedgerEventType] = {}
_extra_lock = threading.Lock()


def declare(code: str, label: str | Promise, **payload: Kind | OptionalKey) -> LedgerEventType:
    if code in CATALOGUE:
        raise ValueError(f"The ledger event {code!r} is declared twice.")
    event = LedgerEventType(code=code, label=label, payload=shape(**payload))
    CATALOGUE[code] = event
    return event


def event_type(action: LedgerEventType | str) -> LedgerEventType:
    """The declaration of `action` (an event type or its code); UnknownLedgerEvent if none."""
    code = action.code if isinstance(action, LedgerEventType) else action
    found = CATALOGUE.get(code) or _extra.get(code)
    if found is None or (isinstance(action, LedgerEventType) and found != action):
        raise UnknownLedgerEvent(
            f"The ledger event {code!r} is not declared in governance/ledger/events.py; "
            "declare it there with its payload schema."
        )
    return found


def check_event(action: LedgerEventType | str, payload: Any) -> LedgerEventType:
    """Raise UnknownLedgerEvent or PayloadMismatch unless `payload` (as stored) fits `action`."""
    event = event_type(action)
    problems = event.problems(payload)
    if problems:
        raise PayloadMismatch(event.code, problems)
    return event


@contextmanager
def declared(*events: LedgerEventType) -> Iterator[None]:
    """Declare `events` for the duration of the block, in every thread.

    For tests of the chain itself and benchmarks, which append events no service writes; a code
    of the catalogue cannot be declared again.
    """
    with _extra_lock:
        clash = [e.code for e in events if e.code in CATALOGUE or e.code in _extra]
        if clash:
            raise ValueError(f"Already declared: {', '.join(clash)}.")
        for event in events:
            _extra[event.code] = event
    try:
        yield
    finally:
        with _extra_lock:
            for event in events:
                _extra.pop(event.code, None)


# Initiatives --------------------------------------------------------------------------------------

_DRAFT: dict[str, Kind] = {
    "title": TEXT,
    "department": TEXT,
    "pain_point": TEXT,
    "process_embedding": TEXT,
    "risk_tier": TEXT,
    "uses_personal_data": BOOL,
    "sponsor": nullable(TEXT),  # the sponsor's username
}

INITIATIVE_CREATED = declare("initiative.created", _("Initiative registered"), **_DRAFT)
# Only the fields the edit changed.
INITIATIVE_UPDATED = declare(
    "initiative.updated", _("Draft edited"), **{name: optional(kind) for name, kind in _DRAFT.items()}
)
INITIATIVE_SUBMITTED = declare(
    "initiative.submitted", _("Initiative submitted"), **{"from": TEXT, "to": TEXT, "at": DATETIME}
)
INITIATIVE_TRANSITIONED = declare(
    "initiative.transitioned",
    _("Initiative moved to another stage"),
    **{"review": INT, "from": TEXT, "to": TEXT, "at": DATETIME},
)
BUSINESS_CASE_RECORDED = declare(
    "business_case.recorded",
    _("Business case recorded"),
    budget=DECIMAL,
    expected_annual_benefit=DECIMAL,
    horizon_months=INT,
    exit_criteria=TEXT,
    missed_periods_to_retire=INT,
    currency=optional(TEXT),  # ISO 4217; absent: the deployment's default currency
)

# KPIs, experiments, money, evidence ----------------------------------------------------------------

KPI_DEFINED = declare(
    "kpi.defined",
    _("KPI defined"),
    kpi=INT,
    name=TEXT,
    unit=TEXT,
    direction=TEXT,
    baseline=DECIMAL,
    target=DECIMAL,
    data_source=TEXT,
    is_primary=BOOL,
    is_guardrail=optional(BOOL),  # present on guardrail KPIs only
    non_inferiority_margin=optional(DECIMAL),
)
KPI_MEASUREMENTS_RECORDED = declare(
    "kpi.measurements_recorded",
    _("KPI measurements recorded"),
    kpi=INT,
    measurements=list_of(shape(period=DATE, value=DECIMAL, sample_size=nullable(INT), source=TEXT)),
    # Measured from the KPI's system of record rather than reported: the reading's provenance.
    reading=optional(
        shape(
            reading=INT,
            source=INT,
            connector=TEXT,
            source_version=INT,
            query_hash=TEXT,
            row_count=INT,
            result_hash=TEXT,
            read_at=DATETIME,
        )
    ),
)
# Where a KPI is measured from: the connector and the query (or file name) it reads, every version.
KPI_SOURCE_REGISTERED = declare(
    "kpi.source_registered",
    _("KPI source registered"),
    source=INT,
    kpi=INT,
    version=INT,
    connector=TEXT,
    kind=TEXT,
    query=TEXT,
    query_hash=TEXT,
    active=BOOL,
)
# Both arms' summary: counts for a proportion, plus means and variances for a mean.
_ARMS: dict[str, Kind | OptionalKey] = {
    "control_size": INT,
    "treatment_size": INT,
    "control_successes": INT,
    "treatment_successes": INT,
    "control_mean": optional(DECIMAL),
    "control_variance": optional(DECIMAL),
    "treatment_mean": optional(DECIMAL),
    "treatment_variance": optional(DECIMAL),
}
EXPERIMENT_RECORDED = declare(
    "experiment.recorded",
    _("Experiment recorded"),
    experiment=INT,
    kpi=INT,
    name=TEXT,
    metric=TEXT,
    looked_on=DATE,
    **_ARMS,
)
EXPERIMENT_LOOK_RECORDED = declare(
    "experiment.look_recorded",
    _("Experiment look recorded"),
    experiment=INT,
    kpi=INT,
    looked_on=DATE,
    **_ARMS,
)
# A KPI's experiment plan as pinned: what the gates read of it (governance/reviews/facts.py).
_PLAN = shape(
    metric=TEXT,
    baseline=nullable(DECIMAL),  # null: the KPI's own baseline
    minimum_effect=DECIMAL,
    treatment_share=DECIMAL,
    planned_looks=INT,
    traffic_per_month=INT,
    standard_deviation=nullable(DECIMAL),
    notes=TEXT,
)
EXPERIMENT_PLAN_REGISTERED = declare(
    "experiment_plan.registered",
    _("Experiment plan registered"),
    plan=INT,
    kpi=INT,
    version=INT,
    # The plan it replaces, registered before any look; null for the KPI's first plan.
    registered=_PLAN,
    replaces=nullable(_PLAN),
)
EXPERIMENT_PLAN_CHANGED = declare(
    "experiment_plan.changed",
    _("Experiment plan changed after data arrived"),
    plan=INT,
    kpi=INT,
    version=INT,
    before=nullable(_PLAN),  # null: a first plan registered only after data arrived
    after=_PLAN,
    reason=TEXT,
    looks=INT,  # looks recorded on the KPI's experiments when the plan changed
)
FINANCIAL_ENTRY_RECORDED = declare(
    "financial_entry.recorded",
    _("Cost or benefit recorded"),
    entry=INT,
    kind=TEXT,
    month=DATE,
    amount=DECIMAL,
)
EVIDENCE_SUBMITTED = declare(
    "evidence.submitted",
    _("Evidence submitted"),
    evidence=INT,
    kind=TEXT,
    title=TEXT,
    sha256=TEXT,
    media_type=TEXT,
    replaces=nullable(INT),
)

# Reviews and sign-offs ------------------------------------------------------------------------------

REVIEW_OPENED = declare(
    "review.opened",
    _("Gate review opened"),
    review=INT,
    gate=TEXT,
    policy_version=INT,
    functions=list_of(TEXT),
    reason=optional(TEXT),  # why, when ValueGate opened it itself
    reason_code=optional(REASON),  # the same as a code, to be shown in the reader's language
)
REVIEW_DECIDED = declare(
    "review.decided",
    _("Gate review decided"),
    review=INT,
    gate=TEXT,
    policy_version=INT,
    outcome=TEXT,
    reason=TEXT,
    # The reason as a code with parameters (governance/rules/reasons.py), so that it can be shown
    # in the reader's language; absent when a person wrote the reason, and from events recorded
    # before reasons were codes (their English `reason` is what they show).
    reason_code=optional(REASON),
    revisit_on=nullable(DATE),
    requirements=list_of(
        shape(code=TEXT, passed=BOOL, reason=TEXT, label_code=optional(REASON), reason_code=optional(REASON))
    ),
)
SIGNOFF_RECORDED = declare(
    "signoff.recorded",
    _("Sign-off recorded"),
    signoff=INT,
    review=INT,
    function=TEXT,
    decision=TEXT,
    rationale=TEXT,
    digest=TEXT,  # SHA-256 of the facts the signer saw
    conditions=list_of(shape(condition=INT, text=TEXT, due_on=DATE, owner=TEXT)),
    # The version of the gate facts the digest covers; absent from sign-offs recorded before the
    # facts were versioned, which pinned evidence and KPI data only.
    facts=optional(INT),
)
SIGNOFF_SUPERSEDED = declare(
    "signoff.superseded", _("Sign-off superseded"), signoff=INT, review=INT, function=TEXT
)
CONDITION_CLOSED = declare("condition.closed", _("Condition closed"), condition=INT, note=TEXT)
_FOLLOW_UP: dict[str, Kind] = {
    "review": INT,
    "gate": TEXT,
    "functions": list_of(TEXT),
    "days_waiting": INT,
    "policy_days": INT,
}
SIGNOFF_REMINDED = declare("signoff.reminded", _("Sign-off reminder sent"), **_FOLLOW_UP)
SIGNOFF_ESCALATED = declare("signoff.escalated", _("Overdue sign-off escalated"), **_FOLLOW_UP)
POLICY_VERSION_CREATED = declare(
    "policy.version_created",
    _("Gate policy version created"),
    gate=TEXT,
    version=INT,
    previous_version=nullable(INT),
    rules=map_of(JSON),
    changed=list_of(TEXT),
)

# Oversight: the periodic work ----------------------------------------------------------------------

PILOT_ESCALATED = declare(
    "pilot.escalated",
    _("Pilot past its deadline escalated"),
    deadline=DATE,
    days_over=INT,
    open_review=nullable(INT),
    opens_scale_review=BOOL,
)
VALUE_REVIEW_OPENED = declare(
    "value_review.opened",
    _("Value review opened"),
    value_review=INT,
    month=DATE,
    stage=TEXT,
    recommendation=TEXT,
    reasons=list_of(TEXT),
    # The reasons as codes with parameters, in the order of `reasons`; absent before reasons were codes.
    reason_codes=optional(list_of(REASON)),
    kpis=list_of(
        shape(
            kpi=TEXT,
            primary=BOOL,
            period=nullable(TEXT),  # YYYY-MM of the latest measurement
            value=nullable(DECIMAL),
            baseline=nullable(DECIMAL),
            target=nullable(DECIMAL),
            attainment=nullable(DECIMAL),
            meets_target=nullable(BOOL),
            consecutive_misses=INT,
            overdue=BOOL,
            experiments=optional(list_of(map_of(JSON))),
            # The latest value was read from the KPI's system of record, not reported.
            measured_from_source=optional(BOOL),
        )
    ),
    overdue_kpis=list_of(TEXT),
    cost_to_date=nullable(DECIMAL),
    benefit_to_date=nullable(DECIMAL),
    roi_to_date=nullable(DECIMAL),
    projected_roi=nullable(DECIMAL),
)
EXIT_CRITERIA_MET = declare(
    "exit_criteria.met",
    _("KPI met its exit criteria"),
    breach=INT,
    kpi=TEXT,
    first_missed_period=DATE,
    missed_periods=INT,
    allowed=nullable(INT),
)

# Notifications ---------------------------------------------------------------------------------------

NOTIFICATION_RETRIED = declare(
    "notification.retried",
    _("Dead notification delivery retried"),
    delivery=INT,
    event_key=TEXT,
    channel=TEXT,
    last_error=TEXT,
)
NOTIFICATION_CHANNEL_CHOSEN = declare(
    "notification.channel_chosen", _("Notification channel chosen"), user=TEXT, event=TEXT, channel=TEXT
)
NOTIFICATION_CHANNEL_DROPPED = declare(
    "notification.channel_dropped", _("Notification channel dropped"), user=TEXT, event=TEXT, channel=TEXT
)

# Access and the ledger itself ------------------------------------------------------------------------

MEMBERSHIP_GRANTED = declare("membership.granted", _("Role granted"), user=TEXT, group=TEXT)
MEMBERSHIP_REVOKED = declare("membership.revoked", _("Role revoked"), user=TEXT, group=TEXT)
ACCOUNT_CHANGED = declare(
    "account.changed",
    _("Account flags changed"),
    user=TEXT,
    changed=map_of(shape(**{"from": BOOL, "to": BOOL})),
)
API_TOKEN_ISSUED = declare(
    "api_token.issued",
    _("API token issued"),
    token=INT,
    name=TEXT,
    prefix=TEXT,
    owner=TEXT,
    # Absent from tokens issued before tokens expired.
    expires_at=optional(DATETIME),
)
API_TOKEN_REVOKED = declare(
    "api_token.revoked",
    _("API token revoked"),
    token=INT,
    name=TEXT,
    prefix=TEXT,
    # Why, when it was not its owner's or an admin's choice (the owner deactivated, a role lost).
    reason=optional(TEXT),
)
API_TOKEN_ROTATED = declare(
    "api_token.rotated",
    _("API token rotated"),
    token=INT,
    prefix=TEXT,
    replaced_by=INT,
    new_prefix=TEXT,
    old_expires_at=DATETIME,
    new_expires_at=DATETIME,
)
LEDGER_EXPORTED = declare(
    "ledger.exported",
    _("Ledger exported"),
    format=TEXT,
    since=nullable(DATE),
    until=nullable(DATE),
    initiative=nullable(INT),
    first_seq=nullable(INT),
    last_seq=nullable(INT),
    events=INT,
    withheld=INT,
    sha256=TEXT,
    tree_size=optional(INT),
)
