"""One-line fields refuse control characters at every door (model, service, API, admin), with a
clear error and nothing saved; and the text of messages is made one line and capped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.errors import InvalidInput
from governance.ledger.models import LedgerEvent
from governance.notifications.text import SUBJECT_LIMITS, body_for, cap, one_line, subject_for
from governance.reviews.initiatives import initiative_create, initiative_update_draft, kpi_define
from governance.value.services import (
    MeasurementErrors,
    MeasurementInput,
    evidence_submit,
    experiment_record,
    financial_entry_record,
    measurements_record,
)
from projects.models import Initiative
from projects.text import control_characters, validate_single_line
from tests import factories
from tests.api.conftest import url

HOSTILE = [
    "Churn model\r\nBcc: x@evil.test",
    "Churn model\nSubject: hijacked",
    "Tab\tseparated",
    "Zero\u200bwidth",
    "Right-to-left \u202eoverride",
    "Line\u2028separator",
    "Bell\x07",
    "Escape\x1b[31m",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_validator_names_the_control_characters(value):
    with pytest.raises(ValidationError, match="single line"):
        validate_single_line(value)
    assert control_characters(value)


def test_ordinary_titles_pass_in_any_script():
    for value in ("Churn model", "客户流失预测模型", "Modèle d'attrition — v2", "Prévision (2026)"):
        validate_single_line(value)


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE)
def test_the_model_refuses_a_hostile_title_and_department(value):
    initiative = factories.InitiativeFactory.build(owner=factories.lead(), title=value, department=value)
    with pytest.raises(ValidationError) as refused:
        initiative.clean_fields(exclude=["stage"])  # the state machine's field is not set by hand
    assert {"title", "department"} <= set(refused.value.message_dict)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "department"])
@pytest.mark.parametrize("value", HOSTILE[:3])
def test_registering_an_initiative_refuses_hostile_one_line_fields(field, value):
    lead = factories.lead()
    fields = {"title": "Churn", "department": "Sales", field: value}
    before = Initiative.objects.count(), LedgerEvent.objects.count()
    with pytest.raises(InvalidInput, match=f"{field.capitalize()} must be a single line"):
        initiative_create(actor=lead, pain_point="p", process_embedding="e", **fields)
    assert (Initiative.objects.count(), LedgerEvent.objects.count()) == before


@pytest.mark.django_db
def test_editing_a_draft_refuses_a_hostile_title():
    draft = factories.InitiativeFactory(title="Before")
    with pytest.raises(InvalidInput, match="single line"):
        initiative_update_draft(actor=draft.owner, initiative=draft, title=HOSTILE[0])
    draft.refresh_from_db()
    assert draft.title == "Before"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "unit", "data_source"])
def test_defining_a_kpi_refuses_hostile_one_line_fields(field):
    draft = factories.InitiativeFactory()
    values = {"name": "Churn", "unit": "%", "data_source": "BI", field: HOSTILE[0]}
    with pytest.raises(InvalidInput, match="single line"):
        kpi_define(
            actor=draft.owner, initiative=draft, direction="decrease", baseline="5", target="4", **values
        )
    assert not draft.kpis.filter(name="Churn").exists()


@pytest.mark.django_db
def test_a_pilot_s_records_refuse_hostile_one_line_fields():
    pilot = factories.pilot_ready_for_scale_gate()
    lead, kpi = pilot.owner, pilot.kpis.first()
    events = LedgerEvent.objects.count()
    with pytest.raises(InvalidInput, match="single line"):
        evidence_submit(
            actor=lead,
            initiative=pilot,
            kind="other",
            title=HOSTILE[0],
            file=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
        )
    with pytest.raises(InvalidInput, match="single line"):
        experiment_record(
            actor=lead,
            kpi=kpi,
            name=HOSTILE[1],
            success_definition="clicked",
            control_size=10,
            treatment_size=10,
        )
    with pytest.raises(InvalidInput, match="single line"):
        financial_entry_record(
            actor=lead,
            initiative=pilot,
            kind="cost",
            month=dt.date(2026, 10, 1),
            amount="10",
            description=HOSTILE[2],
        )
    with pytest.raises(MeasurementErrors) as refused:
        measurements_record(
            actor=lead, kpi=kpi, measurements=[MeasurementInput(dt.date(2020, 1, 1), "1", HOSTILE[0])]
        )
    assert "single line" in str(refused.value.errors)
    assert LedgerEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE[:4])
def test_the_api_refuses_a_hostile_title_by_field_and_creates_nothing(value):
    from tests.api.conftest import build_world

    world = build_world()
    before = Initiative.objects.count(), LedgerEvent.objects.count()
    response = world.client("owner").post(
        url("initiatives/"), {"title": value, "department": "Sales"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "single line" in " ".join(response.json()["error"]["fields"]["title"])
    assert (Initiative.objects.count(), LedgerEvent.objects.count()) == before


@pytest.mark.django_db
def test_the_admin_refuses_a_hostile_title_on_the_form(client):
    lead = factories.lead(is_staff=True)
    client.force_login(lead)
    response = client.post(
        reverse("admin:projects_initiative_add"),
        {
            "title": HOSTILE[0],
            "department": "Sales",
            "pain_point": "p",
            "process_embedding": "e",
            "risk_tier": "limited",
        },
    )
    assert response.status_code == 200
    assert "single line" in response.content.decode()
    assert not Initiative.objects.exists()


# The text of messages -------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_subject_is_one_line_whatever_the_title(value):
    for kind, limit in SUBJECT_LIMITS.items():
        subject = subject_for(kind, f"[ValueGate] Scale gate awaits your sign-off: {value}")
        assert not control_characters(subject) and len(subject) <= limit


def test_capping_counts_characters_and_cuts_at_a_word_boundary():
    assert cap("Forecast demand for stores", 19) == "Forecast demand…"
    assert cap("short", 10) == "short"
    assert cap("x" * 30, 10) == "x" * 9 + "…"  # one long word: cut inside it rather than lose it all
    chinese = "客户流失预测模型" * 20
    assert len(cap(chinese, 64)) == 64 and cap(chinese, 64).endswith("…")
    assert one_line("A\r\n\r\nB\t C", limit=50) == "A B C"


def test_a_body_keeps_its_lines_and_loses_other_control_characters():
    assert body_for("email", "Line one\r\n  Line\ttwo\x1b[31m") == "Line one\n  Line two [31m"
    assert len(body_for("wecom", "word " * 1000)) <= 1300
