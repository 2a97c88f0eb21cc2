"""The ledger browser and a sign-off's snapshot, as an auditor sees them in the admin."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.ledger.models import LedgerEvent
from governance.reviews.initiatives import (
    business_case_record,
    initiative_create,
    initiative_submit,
    kpi_define,
)
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.value.services import (
    MeasurementInput,
    evidence_submit,
    experiment_record,
    measurements_record,
)
from projects.models import Evidence
from tests import factories
from tests.ledger.conftest import append, clock

pytestmark = pytest.mark.django_db

LIST = reverse("admin:governance_ledgerevent_changelist")


def seqs(response) -> list[int]:
    """The sequence numbers listed on a changelist page, top to bottom."""
    return [
        int(s)
        for s in re.findall(r'<th class="field-seq"><a href="[^"]+">(\d+)</a>', response.content.decode())
    ]


@pytest.fixture
def auditor_client(client, members):
    members["auditor"].is_staff = True  # let into the admin, as the demo's auditor is
    members["auditor"].save()
    client.force_login(members["auditor"])
    return client


@pytest.fixture
def portfolio(members):
    """Two leads' initiatives described on two days, and an event of no initiative."""
    leads = [factories.lead(username="rosa"), factories.lead(username="sam")]
    initiatives = []
    for day, lead in zip((1, 2), leads, strict=True):
        with clock(dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC)):
            initiatives.append(
                initiative_create(
                    actor=lead,
                    title=f"Initiative of {lead}",
                    department="D",
                    pain_point="p",
                    process_embedding="e",
                )
            )
    append(1, action="test.committee")
    return {"leads": leads, "initiatives": initiatives}


def test_an_auditor_browses_the_ledger_newest_first(auditor_client, portfolio):
    response = auditor_client.get(LIST)

    assert response.status_code == 200
    assert seqs(response) == [3, 2, 1]
    assert "Initiative of rosa" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "initiative.created"}, [2, 1]),
        ({"initiative": "none"}, [3]),
        ({"actor": "system"}, [3]),
        (
            {"recorded_at__gte": "2025-03-02 00:00:00+00:00", "recorded_at__lt": "2025-03-03 00:00:00+00:00"},
            [2],
        ),
        ({"q": "2"}, [2]),
    ],
)
def test_the_auditor_filters_by_action_initiative_actor_and_date(auditor_client, portfolio, query, expected):
    assert seqs(auditor_client.get(LIST, query)) == expected


def test_the_action_filter_offers_the_actions_held_by_their_catalogue_labels(auditor_client, portfolio):
    page = auditor_client.get(LIST).content.decode()
    choices = re.findall(r'<a href="\?action=([^"]+)"[^>]*>([^<]+)</a>', page)

    # the catalogue's label for a declared action; the code itself for one it does not declare
    assert choices == [("initiative.created", "Initiative registered"), ("test.committee", "test.committee")]


def test_filter_by_one_initiative_and_one_actor_and_search_by_hash(auditor_client, portfolio):
    rosa, sam = portfolio["leads"]
    first, _ = portfolio["initiatives"]

    assert seqs(auditor_client.get(LIST, {"initiative": first.pk})) == [1]
    assert seqs(auditor_client.get(LIST, {"actor": sam.pk})) == [2]
    assert seqs(auditor_client.get(LIST, {"q": LedgerEvent.objects.get(seq=2).hash.upper()})) == [2]
    assert seqs(auditor_client.get(LIST, {"q": "not a hash"})) == []


def test_nobody_adds_changes_or_deletes_events_in_the_admin(auditor_client, portfolio, admin_client):
    event = LedgerEvent.objects.get(seq=1)
    change = reverse("admin:governance_ledgerevent_change", args=[event.pk])
    for client in (auditor_client, admin_client):
        assert client.get(reverse("admin:governance_ledgerevent_add")).status_code == 403
        assert client.get(reverse("admin:governance_ledgerevent_delete", args=[event.pk])).status_code == 403
        client.post(change, {"action": "rewritten", "payload": "{}"})
    event.refresh_from_db()
    assert event.action == "initiative.created"
    page = auditor_client.get(change).content.decode()
    assert "✔ its hash covers its content" in page and "✔ its signature by key" in page and "verifies" in page


def test_a_lead_browsing_the_ledger_sees_only_own_initiatives(client, portfolio):
    rosa = portfolio["leads"][0]
    rosa.user_permissions.add(Permission.objects.get(codename="view_ledgerevent"))
    rosa.is_staff = True
    rosa.save()
    client.force_login(rosa)

    assert seqs(client.get(LIST)) == [1]


def test_the_list_never_counts_the_whole_ledger_and_costs_the_same_at_any_size(auditor_client, members):
    append(5)
    with CaptureQueriesContext(connection) as small:
        assert auditor_client.get(LIST).status_code == 200
    append(150)
    with CaptureQueriesContext(connection) as large:
        response = auditor_client.get(LIST)

    assert len(seqs(response)) == 100 and "155 ledger events" in response.content.decode()
    assert len(large) == len(small)
    counts = [
        q["sql"]
        for q in large.captured_queries
        # Counting the events waiting to be sequenced reads the small partial index, not the ledger.
        if "COUNT(" in q["sql"].upper()
        and "ledgerevent" in q["sql"]
        and not q["sql"].endswith('"seq" IS NULL')
    ]
    assert counts == []


# What the signer saw ---------------------------------------------------------------------------


@pytest.fixture
def signed(members):
    """A proposal with evidence, a KPI with measurements and an experiment, signed by business."""
    lead = factories.lead(username="lead")
    initiative = initiative_create(
        actor=lead,
        title="Reply assistant",
        department="Service",
        pain_point="Slow",
        process_embedding="Ticketing",
    )
    business_case_record(
        actor=lead,
        initiative=initiative,
        budget="1000",
        expected_annual_benefit="5000",
        horizon_months=12,
        exit_criteria="Stop if slower",
    )
    kpi = kpi_define(
        actor=lead,
        initiative=initiative,
        name="First reply time",
        unit="min",
        direction="decrease",
        baseline="60",
        target="42.5",
        data_source="BI",
    )
    kpi_define(
        actor=lead,
        initiative=initiative,
        name="CSAT",
        unit="%",
        direction="increase",
        baseline="70",
        target="80",
        data_source="Survey",
        is_primary=False,
    )
    initiative_submit(actor=lead, initiative=initiative)
    evidence_submit(
        actor=lead,
        initiative=initiative,
        kind="business_case",
        title="Business case",
        file=ContentFile(b"The business case, version 1.\n", name="case.txt"),
    )
    measurements_record(
        actor=lead,
        kpi=kpi,
        measurements=[MeasurementInput(dt.date(2026, 1, 1), "55.5", "BI", 900)],
    )
    experiment_record(
        actor=lead,
        kpi=kpi,
        name="A/B reply drafts",
        success_definition="answered in 45 min",
        control_size=1000,
        control_successes=400,
        treatment_size=1000,
        treatment_successes=520,
    )
    review = review_open(actor=lead, initiative=initiative)
    signoff = signoff_record(
        actor=members["business"],
        review=review,
        function="business",
        decision="approve",
        rationale="Seen it.",
    )
    return {"lead": lead, "initiative": initiative, "kpi": kpi, "review": review, "signoff": signoff}


def snapshot_page(client, signoff):
    response = client.get(reverse("admin:governance_ledgerevent_signoff", args=[signoff.pk]))
    assert response.status_code == 302
    return client.get(response.url).content.decode()


def test_a_signoff_shows_what_the_signer_saw_rebuilt_from_the_ledger(auditor_client, signed, members):
    # Later evidence and measurements do not change what this signer saw.
    evidence_submit(
        actor=signed["lead"],
        initiative=signed["initiative"],
        kind="other",
        title="Later note",
        file=ContentFile(b"Written after the sign-off.\n", name="later.txt"),
    )
    measurements_record(
        actor=signed["lead"],
        kpi=signed["kpi"],
        measurements=[MeasurementInput(dt.date(2026, 2, 1), "50", "BI")],
    )

    page = snapshot_page(auditor_client, signed["signoff"])

    assert f"this snapshot's SHA-256 <code>{signed['signoff'].digest}</code> equals the digest" in page
    evidence = Evidence.objects.get(title="Business case")
    assert evidence.sha256 in page and "file unchanged" in page
    assert "Later note" not in page
    assert "First reply time (primary)" in page and "60.000000" in page and "42.500000" in page
    assert "2026-01: 55.500000" in page and "2026-02" not in page
    assert "control 400/1000, treatment 520/1000" in page
    assert page.index("First reply time") < page.index("CSAT")


def test_a_changed_evidence_file_is_flagged(auditor_client, signed):
    evidence = Evidence.objects.get(title="Business case")
    with open(evidence.file.path, "wb") as handle:
        handle.write(b"The business case, quietly rewritten.\n")

    page = snapshot_page(auditor_client, signed["signoff"])

    assert "FILE CHANGED since" in page
    assert "equals the digest" in page  # the signer saw the original, whose hash the ledger keeps


@pytest.mark.ledger_diverges
def test_evidence_slipped_in_outside_the_services_makes_the_snapshot_differ(auditor_client, members):
    lead = factories.lead(username="lead")
    initiative = initiative_create(
        actor=lead, title="Copy", department="Marketing", pain_point="Slow", process_embedding="PIM"
    )
    business_case_record(
        actor=lead,
        initiative=initiative,
        budget="1",
        expected_annual_benefit="2",
        horizon_months=1,
        exit_criteria="x",
    )
    kpi_define(
        actor=lead,
        initiative=initiative,
        name="CTR",
        unit="%",
        direction="increase",
        baseline="4",
        target="5",
        data_source="BI",
    )
    initiative_submit(actor=lead, initiative=initiative)
    factories.evidence(initiative)  # written straight to the table: the ledger never saw it
    review = review_open(actor=lead, initiative=initiative)
    signoff = signoff_record(
        actor=members["legal"], review=review, function="legal", decision="approve", rationale="ok"
    )

    page = snapshot_page(auditor_client, signoff)

    assert "differs from the digest the sign-off pinned" in page
