"""A lead measures a KPI from its source through the initiative page; the committee reads the sources,
their readings and each measurement's origin in the admin, a lead only their own."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.ledger.models import LedgerEvent
from governance.value.connectors.services import kpi_source_register, kpi_sources_read
from projects.models import KPISource
from projects.vocabulary import Stage
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db
NOW = configured_clock()
LAST_MONTH = (NOW.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def drops(settings, tmp_path):
    settings.VALUEGATE_KPI_CONNECTORS = {"warehouse-drops": {"kind": "csv", "directory": str(tmp_path)}}
    return tmp_path


@pytest.fixture
def pilot(people):
    initiative = factories.InitiativeFactory(
        stage=Stage.PILOT, owner=people["lead"], stage_entered_at=NOW - dt.timedelta(days=100)
    )
    factories.BusinessCaseFactory(initiative=initiative)
    factories.KPIFactory(initiative=initiative, name="Conversion rate")
    return initiative


def test_the_lead_registers_a_source_from_the_initiative_page(pilot, people, as_user, drops):
    client = as_user(people["lead"])
    page = client.get(reverse("admin:projects_initiative_change", args=[pilot.pk])).content.decode()
    url = reverse("admin:projects_initiative_kpi_source", args=[pilot.pk])
    assert url in page  # the page offers it

    form = client.get(url).content.decode()
    assert "warehouse-drops (CSV)" in form
    response = client.post(
        url, {"kpi": pilot.kpis.get().pk, "connector": "warehouse-drops", "query": "../x.csv", "active": "on"}
    )
    assert response.status_code == 200  # refused on the form, with the reason
    assert "is not a file name this connector reads" in response.content.decode()
    assert not KPISource.objects.exists()

    response = client.post(
        url,
        {
            "kpi": pilot.kpis.get().pk,
            "connector": "warehouse-drops",
            "query": "conversion.csv",
            "active": "on",
        },
    )
    assert response.status_code == 302
    source = KPISource.objects.get()
    assert (source.connector, source.query, source.registered_by) == (
        "warehouse-drops",
        "conversion.csv",
        people["lead"],
    )
    (event,) = LedgerEvent.objects.filter(action="kpi.source_registered")
    assert json.loads(event.payload)["query"] == "conversion.csv"


def test_without_a_connector_the_page_offers_no_source(pilot, people, as_user, settings):
    settings.VALUEGATE_KPI_CONNECTORS = {}
    page = as_user(people["lead"]).get(reverse("admin:projects_initiative_change", args=[pilot.pk])).content
    assert reverse("admin:projects_initiative_kpi_source", args=[pilot.pk]).encode() not in page


def test_the_committee_reads_sources_readings_and_origins_a_lead_only_their_own(
    pilot, people, as_user, drops
):
    (drops / "conversion.csv").write_text(f"period,value\n{LAST_MONTH},12.5\n")
    kpi = pilot.kpis.get()
    factories.MeasurementFactory(
        kpi=kpi, period=LAST_MONTH.replace(year=LAST_MONTH.year - 1), value=Decimal("9")
    )
    kpi_source_register(
        actor=people["lead"], kpi=kpi, connector="warehouse-drops", query="conversion.csv", now=NOW
    )
    assert kpi_sources_read(now=NOW) == 1
    kpi_source_register(
        actor=people["lead"], kpi=kpi, connector="warehouse-drops", query="renamed.csv", now=NOW
    )
    kpi_sources_read(now=NOW + dt.timedelta(days=2))  # the renamed file is missing: a problem shown

    chair = as_user(people["chair"])
    sources = chair.get(reverse("admin:projects_kpisource_changelist")).content.decode()
    assert "no file “renamed.csv” is in the connector&#x27;s directory." in sources
    readings = chair.get(reverse("admin:projects_sourcereading_changelist")).content.decode()
    assert "warehouse-drops" in readings
    measured = chair.get(
        reverse("admin:projects_kpimeasurement_changelist") + "?origin=source"
    ).content.decode()
    reported = chair.get(
        reverse("admin:projects_kpimeasurement_changelist") + "?origin=lead"
    ).content.decode()
    assert "12.5" in measured and "9.0" not in measured
    assert "9.0" in reported and "12.5" not in reported

    other = as_user(people["other_lead"])
    assert "renamed.csv" not in other.get(reverse("admin:projects_kpisource_changelist")).content.decode()
    source = KPISource.objects.get()
    assert other.get(reverse("admin:projects_kpisource_change", args=[source.pk])).status_code in (
        302,
        403,
        404,
    )
