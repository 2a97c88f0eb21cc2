"""KPI sources: registering where a KPI is measured from, and reading it on schedule.

A lead registers the source of their KPI (ledger: kpi.source_registered, with the query's text).
The periodic job reads each active source that is due and records the months it has not measured
yet, as measurements that point at the reading holding their provenance (ledger:
kpi.measurements_recorded, with the reading). A failed reading records nothing and tells the KPI's
owner once per failing spell, with the reason; the next good reading ends the spell.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.access.checks import lock_initiative, lock_live_initiative_for
from governance.access.matrix import SCHEDULER, Operation, require
from governance.errors import InvalidInput
from governance.ledger.chain import ledger_append
from governance.ledger.events import KPI_MEASUREMENTS_RECORDED, KPI_SOURCE_REGISTERED
from governance.notifications.events import NotificationEvent
from governance.notifications.services import notify
from governance.reasons import say
from governance.rules.reasons import Reason
from governance.value.connectors.config import Connector, configured_connectors
from governance.value.connectors.reading import Read, SourceProblem, check_query, query_hash, read_source
from projects.models import KPI, Initiative, KPIMeasurement, KPISource, SourceReading
from projects.periods import EARLIEST_DAY
from projects.text import control_characters
from projects.vocabulary import TERMINAL_STAGES


def _connector(name: str) -> Connector:
    configured = configured_connectors()
    if name not in configured:
        # Translators: %(name)s is what was given; %(names)s lists the configured connectors.
        raise InvalidInput(
            _("No connector is named %(name)s; configured: %(names)s.")
            % {"name": name, "names": ", ".join(configured) or "—"}
        )
    return configured[name]


@transaction.atomic
def kpi_source_register(
    *, actor, kpi: KPI, connector: str, query: str, active: bool = True, now: dt.datetime | None = None
) -> KPISource:
    """Measure `kpi` from `connector`, reading `query` (SQL) or the named CSV file; or change how.

    Ledger: kpi.source_registered (the query's text and hash, the version). A change of the query
    takes effect from the next reading; measurements already read keep the version they came from.
    """
    now = now or timezone.now()
    initiative = lock_live_initiative_for(
        actor,
        kpi.initiative_id,
        operation=Operation.RECORD_MEASUREMENTS,
        # Translators: completes the refusal "Only <who> may …."
        action=pgettext("refusal", "register where its KPIs are measured from"),
    )
    query = (query or "").strip()
    if not query:
        raise InvalidInput(_("Give the query, or the file's name, to read."))
    # A query spans lines; other control characters (a NUL, which PostgreSQL cannot store) are refused.
    odd = control_characters(query.replace("\n", "").replace("\r", "").replace("\t", ""))
    if odd:
        # Translators: %(characters)s lists characters as U+XXXX codes.
        raise InvalidInput(
            _("The query holds control characters (%(characters)s); remove them.")
            % {"characters": ", ".join(odd)}
        )
    found = _connector(connector)
    try:
        check_query(found, query)
    except SourceProblem as problem:
        raise InvalidInput(say(problem.reason)) from None
    source = KPISource.objects.select_for_update(of=("self",)).filter(kpi=kpi).first()
    if source is None:
        source = KPISource(kpi=kpi, registered_by=actor, registered_at=now)
    elif (source.connector, source.query, source.active) == (found.name, query, active):
        return source  # nothing changed: no new version
    else:
        source.version += 1
        source.registered_by, source.registered_at = actor, now
    source.connector, source.query, source.active = found.name, query, active
    source.failing_since, source.last_problem = None, {}
    source.save()
    ledger_append(
        actor=actor,
        action=KPI_SOURCE_REGISTERED,
        initiative=initiative,
        payload={
            "source": source.pk,
            "kpi": kpi.pk,
            "version": source.version,
            "connector": found.name,
            "kind": found.kind,
            "query": query,
            "query_hash": query_hash(query),
            "active": active,
        },
    )
    return source


def _due(now: dt.datetime) -> Q:
    """Never read, read longer ago than the interval, or failing (tried again at every run)."""
    interval = dt.timedelta(hours=settings.VALUEGATE_KPI_SOURCE_INTERVAL_HOURS)
    return Q(last_read_at__isnull=True) | Q(last_read_at__lte=now - interval) | Q(failing_since__isnull=False)


def kpi_sources_read(*, now: dt.datetime) -> int:
    """Read every active KPI source that is due; the number of measurements recorded.

    Each source is read outside any transaction (a slow system of record holds no lock here) and
    recorded in a transaction of its own, so one failing source never stops the others.
    """
    require(SCHEDULER, Operation.MEASURE_FROM_SOURCE)
    due = (
        KPISource.objects.filter(active=True)
        .exclude(kpi__initiative__stage__in=TERMINAL_STAGES)
        .filter(_due(now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    connectors = configured_connectors()
    recorded = 0
    for source_id in list(due):
        recorded += kpi_source_read(source_id=source_id, connectors=connectors, now=now)
    return recorded


def kpi_source_read(
    *, source_id: int, connectors: dict[str, Connector] | None = None, now: dt.datetime
) -> int:
    """Read one source now and record what it adds; the number of measurements recorded."""
    source = KPISource.objects.get(pk=source_id)
    connector = (connectors if connectors is not None else configured_connectors()).get(source.connector)
    try:
        if connector is None:
            raise SourceProblem("kpi_source.connector_gone", connector=source.connector)
        read = read_source(connector, source.query)
    except SourceProblem as problem:
        _record_failure(source_id, source.version, problem.reason, now=now)
        return 0
    return _record_reading(source_id, source.version, read, now=now)


def _locked_source(source_id: int, version: int) -> tuple[KPISource | None, Initiative]:
    """The source and its initiative, locked in that order (as every value service locks the
    initiative first); None when it changed while it was being read."""
    initiative_id = KPISource.objects.filter(pk=source_id).values_list("kpi__initiative_id", flat=True).get()
    initiative = lock_initiative(initiative_id)
    source = KPISource.objects.select_for_update(of=("self",)).select_related("kpi").get(pk=source_id)
    if source.version != version or not source.active or initiative.stage in TERMINAL_STAGES:
        return None, initiative
    return source, initiative


@transaction.atomic
def _record_reading(source_id: int, version: int, read: Read, *, now: dt.datetime) -> int:
    source, initiative = _locked_source(source_id, version)
    if source is None:
        return 0
    kpi = source.kpi
    # Only closed months, in the calendar every dated figure keeps (projects/periods.py): the month
    # in progress is read once it has ended; history before EARLIEST_DAY is not ValueGate's.
    this_month = timezone.localdate(now).replace(day=1)
    measured = set(KPIMeasurement.objects.filter(kpi=kpi).values_list("period", flat=True))
    new = [row for row in read.rows if EARLIEST_DAY <= row.period < this_month and row.period not in measured]
    new = list({row.period: row for row in new}.values())  # a month twice in the source: its last row
    source.last_read_at = now
    if source.failing_since is not None:
        source.failing_since, source.last_problem = None, {}
    source.save(update_fields=["last_read_at", "failing_since", "last_problem"])
    if not new:
        return 0
    reading = SourceReading.objects.create(
        source=source,
        connector=source.connector,
        source_version=source.version,
        query_hash=read.query_hash,
        row_count=len(read.rows),
        result_hash=read.result_hash,
        read_at=now,
    )
    rows = KPIMeasurement.objects.bulk_create(
        KPIMeasurement(
            kpi=kpi,
            period=row.period,
            value=row.value,
            sample_size=row.sample_size,
            source=source.connector,
            reading=reading,
            recorded_at=now,
        )
        for row in sorted(new, key=lambda row: row.period)
    )
    ledger_append(
        actor=None,
        action=KPI_MEASUREMENTS_RECORDED,
        initiative=initiative,
        payload={
            "kpi": kpi.pk,
            "measurements": [
                {"period": m.period, "value": m.value, "sample_size": m.sample_size, "source": m.source}
                for m in rows
            ],
            "reading": {
                "reading": reading.pk,
                "source": source.pk,
                "connector": reading.connector,
                "source_version": reading.source_version,
                "query_hash": reading.query_hash,
                "row_count": reading.row_count,
                "result_hash": reading.result_hash,
                "read_at": now,
            },
        },
    )
    return len(rows)


@transaction.atomic
def _record_failure(source_id: int, version: int, reason: Reason, *, now: dt.datetime) -> None:
    source, initiative = _locked_source(source_id, version)
    if source is None:
        return
    first_of_spell = source.failing_since is None
    source.last_read_at = now
    source.last_problem = reason.as_json()
    if first_of_spell:
        source.failing_since = now
    source.save(update_fields=["last_read_at", "failing_since", "last_problem"])
    if not first_of_spell:
        return
    kpi = source.kpi
    notify(
        recipients=[initiative.owner],
        event_key=f"kpi-source-{source.pk}-failing-{now:%Y%m%dT%H%M%S}",
        event=NotificationEvent.KPI_SOURCE_FAILED,
        initiative=initiative,
        subject=lambda: (
            # Translators: %(kpi)s is a KPI's name; %(title)s an initiative's title.
            _("[ValueGate] %(kpi)s of %(title)s could not be measured from its source")
            % {"kpi": kpi.name, "title": initiative.title}
        ),
        body=lambda: (
            # Translators: %(connector)s names the connector; %(problem)s says what went wrong.
            _("Reading %(connector)s failed: %(problem)s Nothing was recorded; it is tried again every hour.")
            % {"connector": source.connector, "problem": say(reason)}
        ),
        to_do=lambda: _("Fix the source or its query, or record the month's measurement yourself."),
    )
