"""KPIs measured from their systems of record: a read-only SQL query or a dropped CSV, read on schedule.

The SQL tests read a real second PostgreSQL database that each test creates and drops (whatever
database ValueGate itself runs on), and a SQLite file; the CSV tests a directory of their own.
What a committee relies on: each figure says where it came from, with hashes anyone can recompute;
a source that cannot be read records nothing and tells its owner why, once; a lead cannot write
through a query; and a policy can refuse a Go on months the lead typed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.audit.signer_view import signer_view
from governance.errors import InvalidInput, NotAllowed
from governance.ledger.models import LedgerEvent
from governance.notifications.models import Notification
from governance.oversight.value_reviews import value_reviews_open
from governance.reasons import say, say_stored
from governance.reviews.facts import next_gate_checklist
from governance.reviews.policies import policy_version_create
from governance.reviews.portfolio import initiative_page, review_checklists
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.schedule import run_periodic_work
from governance.value.connectors.services import kpi_source_register, kpi_sources_read
from governance.value.models import ValueReview
from projects.models import KPIMeasurement, KPISource, SourceReading
from projects.vocabulary import Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db
NOW = configured_clock()
THIS_MONTH = NOW.date().replace(day=1)
ADMIN_URL = os.environ.get("TEST_SOURCE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FOUR = ("business", "legal", "finance", "technical")
QUERY = "SELECT month AS period, conversion AS value, visitors AS sample_size FROM sales_month ORDER BY month"


def months_before(day: dt.date, count: int) -> list[dt.date]:
    """The first days of the `count` months before `day`'s, oldest first."""
    index = day.year * 12 + day.month - 1
    return [dt.date((index - n) // 12, (index - n) % 12 + 1, 1) for n in range(count, 0, -1)]


@pytest.fixture
def source_database():
    """A PostgreSQL database of its own standing for the company's sales system; dropped after."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:  # pragma: no cover - CI always has the server
        pytest.skip(f"no PostgreSQL server to hold a source database at {ADMIN_URL}: {error}")
    name = f"valuegate_source_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE sales_month (month date, conversion numeric(8, 4), visitors integer)"
        )
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def put_months(url: str, rows) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for month, value, visitors in rows:
            connection.execute("INSERT INTO sales_month VALUES (%s, %s, %s)", (month, value, visitors))


@pytest.fixture
def sales_connector(settings, monkeypatch, source_database):
    monkeypatch.setenv(
        "SALES_DATABASE_URL", source_database.replace("postgresql://", "postgresql+psycopg://")
    )
    settings.VALUEGATE_KPI_CONNECTORS = {
        "sales": {"kind": "sql", "url_env": "SALES_DATABASE_URL", "timeout_seconds": 1, "row_limit": 50}
    }
    return source_database


@pytest.fixture
def pilot():
    initiative = factories.InitiativeFactory(
        stage=Stage.PILOT, stage_entered_at=NOW - dt.timedelta(days=130), owner=factories.lead(is_staff=True)
    )
    factories.BusinessCaseFactory(initiative=initiative)
    factories.KPIFactory(
        initiative=initiative, name="Conversion rate", baseline=Decimal("10"), target=Decimal("12")
    )
    return initiative


def source_events(initiative, action):
    return [
        json.loads(e.payload) for e in LedgerEvent.objects.filter(initiative_id=initiative.pk, action=action)
    ]


# SQL against a second PostgreSQL database -------------------------------------------------------


def test_closed_months_are_recorded_from_the_source_with_their_provenance(pilot, sales_connector):
    kpi = pilot.kpis.get()
    closed = months_before(THIS_MONTH, 3)
    put_months(sales_connector, [(m, Decimal("12.5") + i, 4000 + i) for i, m in enumerate(closed)])
    put_months(sales_connector, [(THIS_MONTH, Decimal("99"), 10)])  # the month in progress: not yet
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="sales", query=QUERY, now=NOW)

    assert kpi_sources_read(now=NOW) == 3

    measured = list(KPIMeasurement.objects.filter(kpi=kpi).order_by("period"))
    assert [(m.period, m.value, m.sample_size) for m in measured] == [
        (m, Decimal("12.5") + i, 4000 + i) for i, m in enumerate(closed)
    ]
    assert {(m.recorded_by_id, m.measured_from_source) for m in measured} == {(None, True)}
    reading = SourceReading.objects.get()
    rows = [[m.isoformat(), str(Decimal("12.5000") + i), 4000 + i] for i, m in enumerate(closed)]
    rows.append([THIS_MONTH.isoformat(), "99.0000", 10])
    assert reading.row_count == 4
    assert reading.query_hash == hashlib.sha256(QUERY.encode()).hexdigest()
    assert reading.result_hash == hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()
    (event,) = source_events(pilot, "kpi.measurements_recorded")
    assert event["reading"]["result_hash"] == reading.result_hash
    assert event["reading"]["connector"] == "sales"
    assert LedgerEvent.objects.get(action="kpi.measurements_recorded").actor_name == "system"
    (registered,) = source_events(pilot, "kpi.source_registered")
    assert (registered["query"], registered["version"], registered["kind"]) == (QUERY, 1, "sql")

    # Read again within the interval: not due. Once the month in progress has ended (and the
    # interval passed), it is read; after that, nothing new to record.
    assert kpi_sources_read(now=NOW + dt.timedelta(hours=1)) == 0
    next_month = dt.datetime.combine(
        (THIS_MONTH + dt.timedelta(days=32)).replace(day=1), dt.time(1), tzinfo=dt.UTC
    )
    after_the_month = max(next_month, NOW + dt.timedelta(days=1, hours=1))
    assert kpi_sources_read(now=after_the_month) == 1
    assert KPIMeasurement.objects.get(kpi=kpi, period=THIS_MONTH).value == Decimal("99")
    assert kpi_sources_read(now=after_the_month + dt.timedelta(days=2)) == 0
    assert KPIMeasurement.objects.filter(kpi=kpi).count() == 4


def test_the_initiative_page_and_the_api_say_which_figures_came_from_the_source(
    pilot, sales_connector, client
):
    kpi = pilot.kpis.get()
    first, second = months_before(THIS_MONTH, 2)
    factories.MeasurementFactory(kpi=kpi, period=first, value=Decimal("11"))
    put_months(sales_connector, [(second, Decimal("12.75"), 900)])
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="sales", query=QUERY, now=NOW)
    kpi_sources_read(now=NOW)

    page = initiative_page(pilot.pk, now=NOW)
    (row,) = page.kpis
    assert (row.measured_from_source, row.latest.measured_from_source) == (1, True)
    client.force_login(pilot.owner)
    response = client.get(reverse("admin:projects_initiative_change", args=[pilot.pk]))
    assert response.status_code == 200, response
    html = response.content.decode()
    assert "measured from source" in html
    assert "1 measured from source" in html
    assert "Measured by the connector sales (query v1)" in html

    api = APIClient()
    api.force_authenticate(pilot.owner)
    body = api.get(reverse("api:measurements", args=[pilot.pk, kpi.pk])).json()
    reported, measured = body["results"]
    assert (reported["measured_from_source"], reported["recorded_by"], reported["provenance"]) == (
        False,
        pilot.owner.username,
        None,
    )
    assert measured["measured_from_source"] is True and measured["recorded_by"] is None
    reading = SourceReading.objects.get()
    assert measured["provenance"]["result_hash"] == reading.result_hash
    assert measured["provenance"]["query_hash"] == reading.query_hash


def test_a_slow_query_hits_its_timeout_records_nothing_and_tells_the_owner_once(pilot, sales_connector):
    kpi = pilot.kpis.get()
    slow = "SELECT period, value FROM (SELECT pg_sleep(5), DATE '2026-01-01' AS period, 1.0 AS value) AS s"
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="sales", query=slow, now=NOW)

    assert kpi_sources_read(now=NOW) == 0

    source = KPISource.objects.get()
    assert source.failing_since == NOW
    assert (
        say_stored(source.last_problem) == "the query ran longer than its 1-second timeout and was stopped."
    )
    assert not KPIMeasurement.objects.filter(kpi=kpi).exists()
    told = Notification.objects.filter(event="kpi_source.failed")
    assert [n.recipient for n in told] == [pilot.owner]
    assert "1-second timeout" in told.get().body

    # Still failing an hour later: tried again, not told again.
    kpi_sources_read(now=NOW + dt.timedelta(hours=1))
    assert told.count() == 1
    assert KPISource.objects.get().failing_since == NOW


def test_a_query_returning_nothing_is_a_failure_not_a_silent_gap(pilot, sales_connector):
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="sales", query=QUERY, now=NOW)

    kpi_sources_read(now=NOW)

    source = KPISource.objects.get()
    assert say_stored(source.last_problem) == "the source returned no rows."
    assert Notification.objects.filter(event="kpi_source.failed", recipient=pilot.owner).count() == 1

    # Rows arrive: the next run reads them and the failing spell ends.
    put_months(sales_connector, [(months_before(THIS_MONTH, 1)[0], Decimal("12"), 100)])
    assert kpi_sources_read(now=NOW + dt.timedelta(hours=1)) == 1
    source.refresh_from_db()
    assert (source.failing_since, source.last_problem) == (None, {})


def test_an_unreachable_database_is_a_failure_with_its_reason(pilot, settings, monkeypatch):
    monkeypatch.setenv("GONE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    settings.VALUEGATE_KPI_CONNECTORS = {"gone": {"kind": "sql", "url_env": "GONE_URL", "timeout_seconds": 2}}
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="gone", query=QUERY, now=NOW)

    assert kpi_sources_read(now=NOW) == 0

    assert say_stored(KPISource.objects.get().last_problem).startswith("the database could not be reached: ")
    assert Notification.objects.filter(event="kpi_source.failed", recipient=pilot.owner).count() == 1


def test_a_missing_url_variable_is_named(pilot, settings, monkeypatch):
    monkeypatch.delenv("SALES_DATABASE_URL", raising=False)
    settings.VALUEGATE_KPI_CONNECTORS = {"sales": {"kind": "sql", "url_env": "SALES_DATABASE_URL"}}
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="sales", query=QUERY, now=NOW)

    kpi_sources_read(now=NOW)

    assert say_stored(KPISource.objects.get().last_problem) == (
        "the environment variable SALES_DATABASE_URL holding the database's address is not set."
    )


def test_a_query_cannot_write_to_the_source(pilot, sales_connector):
    """The read-only transaction refuses a write hidden in a SELECT; the table is unchanged."""
    sneaky = (
        "WITH gone AS (DELETE FROM sales_month RETURNING month) SELECT month AS period, 1 AS value FROM gone"
    )
    put_months(sales_connector, [(months_before(THIS_MONTH, 1)[0], Decimal("12"), 100)])
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="sales", query=sneaky, now=NOW)

    kpi_sources_read(now=NOW)

    assert "read-only transaction" in say_stored(KPISource.objects.get().last_problem)
    with psycopg.connect(sales_connector) as connection:
        assert connection.execute("SELECT count(*) FROM sales_month").fetchone() == (1,)


def test_statements_other_than_a_select_are_refused_at_registration(pilot, sales_connector):
    for query in ("DELETE FROM sales_month", "SELECT 1; DROP TABLE sales_month", "  "):
        with pytest.raises(InvalidInput):
            kpi_source_register(
                actor=pilot.owner, kpi=pilot.kpis.get(), connector="sales", query=query, now=NOW
            )
    with pytest.raises(InvalidInput, match="No connector is named crm"):
        kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="crm", query=QUERY, now=NOW)
    assert not KPISource.objects.exists()
    assert not source_events(pilot, "kpi.source_registered")


def test_only_the_initiatives_lead_registers_its_kpi_source(pilot, sales_connector):
    other_lead = factories.lead(username="other-lead")
    member = factories.committee()["business"]
    for person in (other_lead, member):
        with pytest.raises(NotAllowed):
            kpi_source_register(actor=person, kpi=pilot.kpis.get(), connector="sales", query=QUERY, now=NOW)
    assert not KPISource.objects.exists()


def test_a_changed_query_is_a_new_version_and_readings_keep_theirs(pilot, sales_connector):
    kpi = pilot.kpis.get()
    earlier, later = months_before(THIS_MONTH, 2)
    put_months(sales_connector, [(earlier, Decimal("12"), 100)])
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="sales", query=QUERY, now=NOW)
    kpi_sources_read(now=NOW)
    changed = QUERY.replace("ORDER BY month", "WHERE visitors > 0 ORDER BY month")
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="sales", query=changed, now=NOW)
    put_months(sales_connector, [(later, Decimal("13"), 100)])
    kpi_sources_read(now=NOW + dt.timedelta(days=2))

    assert [(r.source_version, r.query_hash) for r in SourceReading.objects.order_by("read_at")] == [
        (1, hashlib.sha256(QUERY.encode()).hexdigest()),
        (2, hashlib.sha256(changed.encode()).hexdigest()),
    ]
    assert [e["version"] for e in source_events(pilot, "kpi.source_registered")] == [1, 2]


# The scale gate: a policy requiring measured-from-source, and the signer's snapshot -------------


def test_a_policy_can_refuse_a_go_on_months_the_lead_reported(sales_connector):
    members = factories.committee()
    initiative = factories.pilot_ready_for_scale_gate(months=3)
    kpi = initiative.kpis.get()
    policy_version_create(actor=members["chair"], gate="scale", requires_measured_from_source=True, now=NOW)

    line = next(
        r
        for r in next_gate_checklist(initiative.pk, now=NOW).requirements
        if r.code == "measured_from_source"
    )
    assert not line.passed
    assert say(line.reason) == "Not measured from source: Conversion rate has 3 months reported by its lead."

    # The closed months read from the system of record instead: the requirement holds.
    closed = list(KPIMeasurement.objects.filter(kpi=kpi, period__lt=THIS_MONTH).order_by("period"))
    KPIMeasurement.objects.filter(kpi=kpi).delete()
    put_months(sales_connector, [(m.period, m.value, 1000) for m in closed])
    kpi_source_register(actor=initiative.owner, kpi=kpi, connector="sales", query=QUERY, now=NOW)
    assert kpi_sources_read(now=NOW) == len(closed) > 0
    line = next(
        r
        for r in next_gate_checklist(initiative.pk, now=NOW).requirements
        if r.code == "measured_from_source"
    )
    assert line.passed, say(line.reason)


def test_the_signers_snapshot_rebuilds_figures_read_from_the_source(sales_connector, client):
    """Measured months are part of what a signer pinned: the ledger's reading rebuilds the digest."""
    members = factories.committee()
    initiative, kpi = factories.proposal_through_services(data_source="Ticketing warehouse")
    put_months(sales_connector, [(months_before(THIS_MONTH, 1)[0], Decimal("0.45"), 500)])
    kpi_source_register(actor=initiative.owner, kpi=kpi, connector="sales", query=QUERY, now=NOW)
    assert kpi_sources_read(now=NOW) == 1
    review = review_open(actor=initiative.owner, initiative=initiative)
    signoff_record(
        actor=members["business"], review=review, function="business", decision="approve", rationale="ok"
    )
    event = LedgerEvent.objects.get(action="signoff.recorded")

    view = signer_view(event)

    assert view.matches, view.gaps
    ((measured,),) = [k["measurements"] for k in view.kpis]
    assert measured["from_source"] is True
    assert measured["reading"]["result_hash"] == SourceReading.objects.get().result_hash
    members["auditor"].is_staff = True
    members["auditor"].save()
    client.force_login(members["auditor"])
    page = client.get(reverse("admin:governance_ledgerevent_change", args=[event.pk])).content.decode()
    assert "✔ Rebuilt from the ledger" in page
    assert f"0.450000 (measured from source: sales, result {measured['reading']['result_hash'][:12]}" in page


# SQLite sources and CSV files ------------------------------------------------------------------


def test_a_sqlite_source_is_read_and_its_slow_query_stopped(pilot, settings, monkeypatch, tmp_path):
    path = tmp_path / "sales.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE sales_month (month TEXT, conversion REAL, visitors INTEGER)")
        connection.execute(
            "INSERT INTO sales_month VALUES (?, ?, ?)",
            (months_before(THIS_MONTH, 1)[0].isoformat(), 12.25, 300),
        )
    monkeypatch.setenv("LOCAL_SALES_URL", f"sqlite:///{path}")
    settings.VALUEGATE_KPI_CONNECTORS = {
        "local": {"kind": "sql", "url_env": "LOCAL_SALES_URL", "timeout_seconds": 0.5}
    }
    kpi = pilot.kpis.get()
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="local", query=QUERY, now=NOW)

    assert kpi_sources_read(now=NOW) == 1
    assert KPIMeasurement.objects.get(kpi=kpi).value == Decimal("12.25")

    forever = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT '2026-01-01' AS period, max(i) AS value FROM n"
    )
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="local", query=forever, now=NOW)
    kpi_sources_read(now=NOW + dt.timedelta(days=2))
    assert say_stored(KPISource.objects.get().last_problem).startswith(
        "the query ran longer than its 0.5-second"
    )


def test_a_dropped_csv_file_is_read_and_a_missing_one_reported(pilot, settings, tmp_path):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    kpi = pilot.kpis.get()
    kpi_source_register(actor=pilot.owner, kpi=kpi, connector="drops", query="conversion.csv", now=NOW)

    kpi_sources_read(now=NOW)
    assert (
        say_stored(KPISource.objects.get().last_problem)
        == "no file “conversion.csv” is in the connector's directory."
    )

    first, second = months_before(THIS_MONTH, 2)
    (tmp_path / "conversion.csv").write_text(f"period,value,sample_size\n{first},12.1,800\n{second},12.4,\n")
    assert kpi_sources_read(now=NOW + dt.timedelta(hours=1)) == 2
    assert [
        (m.period, m.value, m.sample_size) for m in KPIMeasurement.objects.filter(kpi=kpi).order_by("period")
    ] == [
        (first, Decimal("12.1"), 800),
        (second, Decimal("12.4"), None),
    ]


@pytest.mark.parametrize("name", ["../secrets.csv", "/etc/passwd", "notes.txt", ".hidden.csv", "a/b.csv"])
def test_a_csv_source_names_a_file_in_its_directory_and_nothing_else(pilot, settings, tmp_path, name):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    with pytest.raises(InvalidInput, match="is not a file name this connector reads"):
        kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="drops", query=name, now=NOW)


def test_a_bad_row_refuses_the_whole_reading(pilot, settings, tmp_path):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    first, second = months_before(THIS_MONTH, 2)
    (tmp_path / "k.csv").write_text(f"period,value\n{first},12\n{second},twelve\n")
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="drops", query="k.csv", now=NOW)

    assert kpi_sources_read(now=NOW) == 0
    assert not KPIMeasurement.objects.exists()
    assert "row 2 has no usable value" in say_stored(KPISource.objects.get().last_problem)


@pytest.mark.parametrize(
    ("sample_size", "column"), [("12.5", "sample_size"), ("-3", "sample_size"), ("3000000000", "sample_size")]
)
def test_a_sample_size_that_is_not_a_count_refuses_the_reading(
    pilot, settings, tmp_path, sample_size, column
):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    (tmp_path / "k.csv").write_text(
        f"period,value,sample_size\n{months_before(THIS_MONTH, 1)[0]},12,{sample_size}\n"
    )
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="drops", query="k.csv", now=NOW)

    assert kpi_sources_read(now=NOW) == 0
    assert f"row 1 has no usable {column}" in say_stored(KPISource.objects.get().last_problem)


def test_one_failing_source_does_not_stop_the_others(pilot, settings, tmp_path):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    other = factories.KPIFactory(initiative=pilot, name="Basket size", is_primary=False)
    (tmp_path / "good.csv").write_text(f"period,value\n{months_before(THIS_MONTH, 1)[0]},40\n")
    kpi_source_register(
        actor=pilot.owner,
        kpi=pilot.kpis.get(name="Conversion rate"),
        connector="drops",
        query="gone.csv",
        now=NOW,
    )
    kpi_source_register(actor=pilot.owner, kpi=other, connector="drops", query="good.csv", now=NOW)

    assert kpi_sources_read(now=NOW) == 1
    assert other.measurements.get().value == Decimal("40")


def test_the_periodic_work_reads_the_sources_before_judging(pilot, settings, tmp_path):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    (tmp_path / "k.csv").write_text(f"period,value\n{months_before(THIS_MONTH, 1)[0]},12\n")
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="drops", query="k.csv", now=NOW)

    done = run_periodic_work(now=NOW)

    assert list(done)[0] == "KPIs measured from source"
    assert done["KPIs measured from source"] == 1


# The REST API ----------------------------------------------------------------------------------


def test_the_api_registers_a_source_and_shows_why_it_fails_in_the_readers_language(pilot, settings, tmp_path):
    settings.VALUEGATE_KPI_CONNECTORS = {"drops": {"kind": "csv", "directory": str(tmp_path)}}
    api = APIClient()
    api.force_authenticate(pilot.owner)
    url = reverse("api:kpi-source", args=[pilot.pk, pilot.kpis.get().pk])
    assert api.get(url).status_code == 404

    refused = api.post(url, {"connector": "drops", "query": "bad\x00.csv"}, format="json")
    assert refused.status_code == 400
    assert (
        api.post(url, {"connector": "drops", "query": "k.csv", "version": 7}, format="json").status_code
        == 400
    )
    assert not KPISource.objects.exists()

    created = api.post(url, {"connector": "drops", "query": "k.csv"}, format="json")
    assert created.status_code == 201
    assert (created.json()["version"], created.json()["active"], created.json()["last_problem"]) == (
        1,
        True,
        "",
    )
    kpi_sources_read(now=NOW)
    shown = api.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert shown["failing_since"] is not None
    assert shown["last_problem"] == "连接器目录中没有文件“k.csv”。"


def test_the_monthly_value_review_says_its_figure_came_from_the_source(pilot, sales_connector, client):
    review_day = dt.datetime.combine(THIS_MONTH.replace(day=11), dt.time(6), tzinfo=dt.UTC)
    put_months(sales_connector, [(months_before(THIS_MONTH, 1)[0], Decimal("12.5"), 900)])
    kpi_source_register(
        actor=pilot.owner, kpi=pilot.kpis.get(), connector="sales", query=QUERY, now=review_day
    )
    assert kpi_sources_read(now=review_day) == 1

    assert value_reviews_open(now=review_day) == 1

    review = ValueReview.objects.get(initiative=pilot)
    assert review.kpi_attainment[0]["measured_from_source"] is True
    chair = factories.committee()["chair"]
    chair.is_staff = True
    chair.save()
    client.force_login(chair)
    page = client.get(reverse("admin:governance_valuereview_change", args=[review.pk])).content.decode()
    assert "<td>Conversion rate</td><td>12.5 (" in page
    assert "measured from source" in page


def test_an_approval_of_figures_read_from_the_source_counts_on_every_page(pilot, sales_connector):
    """The queue, the sign-off page and the initiative page compute the same digest the sign-off
    pinned: a measured month must not make a fresh approval look stale on any of them."""
    members = factories.committee()
    put_months(sales_connector, [(months_before(THIS_MONTH, 1)[0], Decimal("12.5"), 900)])
    kpi_source_register(actor=pilot.owner, kpi=pilot.kpis.get(), connector="sales", query=QUERY, now=NOW)
    assert kpi_sources_read(now=NOW) == 1
    review = review_open(actor=members["chair"], initiative=pilot, gate="scale")
    signoff_record(
        actor=members["business"], review=review, function="business", decision="approve", rationale="ok"
    )

    checklists = {
        "queue and sign-off page": review_checklists([review], now=NOW)[review.pk],
        "initiative page": initiative_page(pilot.pk, now=NOW).checklist,
        "gate": next_gate_checklist(pilot.pk, now=NOW),
    }
    for where, checklist in checklists.items():
        line = next(r for r in checklist.requirements if r.code == "signoff:business")
        assert line.passed, f"{where}: {say(line.reason)}"
