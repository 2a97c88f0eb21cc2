"""export_ledger and tools/verify_export.py: an export verifies with no Django; tampering fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from governance.models import LedgerEvent
from governance.reviews.initiatives import business_case_record, initiative_create, kpi_define
from tests import factories
from tests.ledger.conftest import clock, run_command, verify_export

pytestmark = pytest.mark.django_db

DAY_1, DAY_2, DAY_3 = (dt.datetime(2025, 3, d, 9, 0, tzinfo=dt.UTC) for d in (1, 2, 3))


def describe(lead, title):
    initiative = initiative_create(
        actor=lead,
        title=title,
        department="Service – Zürich",
        pain_point="Customers wait an hour; “urgent” tickets wait longer.",
        process_embedding="Drafts replies in the ticketing tool",
    )
    business_case_record(
        actor=lead,
        initiative=initiative,
        budget="120000.50",
        expected_annual_benefit="400000",
        horizon_months=36,
        exit_criteria="Stop if the first reply is not 30% faster after three months.",
    )
    return initiative


@pytest.fixture
def history(members):
    """Events on three days: two initiatives described, then a KPI defined."""
    lead = factories.lead(username="léa")
    with clock(DAY_1):
        first = describe(lead, "Café reply assistant")  # seq 1-2
    with clock(DAY_2):
        second = describe(lead, "Invoice matching")  # seq 3-4
    with clock(DAY_3):
        kpi_define(
            actor=lead,
            initiative=first,
            name="First reply time",
            unit="minutes",
            direction="decrease",
            baseline="60",
            target="42.5",
            data_source="Ticketing BI",
        )  # seq 5
    return {"first": first, "second": second, "auditor": members["auditor"], "lead": lead}


def export(tmp_path, *args, fmt="csv", actor="auditor"):
    path = tmp_path / f"export.{fmt}"
    code, out, err = run_command(
        "export_ledger", "--actor", actor, "--format", fmt, "--output", str(path), *args
    )
    return code, path, err


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_verifies_with_the_standard_library_alone(history, tmp_path, fmt):
    code, path, err = export(tmp_path, fmt=fmt)
    assert code == 0, err

    status, output = verify_export(path)

    assert status == 0, output
    assert "Export intact: 5 events #1–#5" in output
    last = LedgerEvent.objects.get(seq=5)
    assert f"last hash {last.hash}" in output
    assert "Zürich" in path.read_text(encoding="utf-8")  # text as UTF-8, not escaped


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        pytest.param(
            lambda lines: [
                line.replace("120000.50", "12000.50", 1) if i == 2 else line for i, line in enumerate(lines)
            ],
            "FAILED at event #2: its content does not match its hash",
            id="edit an amount",
        ),
        pytest.param(
            lambda lines: [line.replace("léa", "lea") if i == 3 else line for i, line in enumerate(lines)],
            "FAILED at event #3: its content does not match its hash",
            id="change the actor",
        ),
        pytest.param(lambda lines: lines[:3] + lines[4:], "FAILED at event #3: missing", id="drop an event"),
        pytest.param(
            lambda lines: lines[:3] + [lines[4], lines[3]] + lines[5:],
            "FAILED at event #3: missing: the next event in the export is #4",
            id="swap two events",
        ),
    ],
)
def test_a_tampered_export_fails_naming_the_event(history, tmp_path, fmt, tamper, named):
    _, path, _ = export(tmp_path, fmt=fmt)
    # Both formats put event #k on line k: CSV after its header, JSON after its opening line.
    lines = tamper(path.read_text(encoding="utf-8").split("\n"))
    path.write_text("\n".join(lines), encoding="utf-8")

    status, output = verify_export(path)

    assert status == 1, output
    assert named in output


def test_a_period_export_starts_mid_chain_and_links_to_the_previous_period(history, tmp_path):
    before = LedgerEvent.objects.get(seq=2).hash
    code, path, _ = export(tmp_path, "--since", "2025-03-02", "--until", "2025-03-02")
    assert code == 0

    status, output = verify_export(path, "--prev-hash", before)
    assert status == 0, output
    assert "Export intact: 2 events #3–#4" in output

    status, output = verify_export(path, "--prev-hash", LedgerEvent.objects.get(seq=1).hash)
    assert status == 1
    assert "FAILED at event #3: its previous hash is not the one given with --prev-hash" in output


def test_an_initiative_export_withholds_the_other_events_but_keeps_every_link(history, tmp_path):
    code, path, _ = export(tmp_path, "--initiative", str(history["second"].pk), fmt="json")
    assert code == 0
    text = path.read_text(encoding="utf-8")
    assert "Invoice matching" in text and "Café reply assistant" not in text

    status, output = verify_export(path)

    assert status == 0, output
    assert "Export intact: 5 events #1–#5, 3 withheld" in output
    events = json.loads(text)["events"]
    assert [e["seq"] for e in events if e.get("withheld")] == [1, 2, 5]


def test_an_export_cut_short_is_caught_against_an_anchor(history, tmp_path):
    anchor = tmp_path / "anchor.json"
    run_command("ledger_anchor", "--output", str(anchor))
    _, path, _ = export(tmp_path)
    assert verify_export(path, "--anchor", anchor)[0] == 0

    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-2]) + "\n", encoding="utf-8")  # events 4 and 5 gone

    assert verify_export(path)[0] == 0  # what is left is consistent
    status, output = verify_export(path, "--anchor", anchor)
    assert status == 1
    assert "FAILED at event #4: missing: the anchor records event #5, the export ends at #3" in output


def test_the_export_is_recorded_in_the_ledger_with_its_sha256(history, tmp_path):
    code, path, err = export(tmp_path, "--since", "2025-03-01", fmt="json")
    assert code == 0

    event = LedgerEvent.objects.order_by("-seq").first()
    payload = json.loads(event.payload)
    assert (event.action, event.actor_name, event.actor) == ("ledger.exported", "auditor", history["auditor"])
    assert payload["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (payload["first_seq"], payload["last_seq"], payload["events"]) == (1, 5, 5)
    assert f"Recorded as ledger event #{event.seq} by auditor" in err
    assert json.loads(path.read_text())["last_seq"] == 5  # the export does not contain itself


def test_an_export_to_standard_output_verifies_too(history, tmp_path):
    code, out, _ = run_command("export_ledger", "--actor", "auditor")
    assert code == 0
    path = tmp_path / "stdout.csv"
    path.write_text(out, encoding="utf-8")

    assert verify_export(path)[0] == 0


@pytest.mark.parametrize("who", ["lead", "chair", "business-member"])
def test_only_auditors_export_and_a_refusal_writes_nothing(history, tmp_path, who):
    actor = history["lead"].username if who == "lead" else who
    events = LedgerEvent.objects.count()

    code, path, err = export(tmp_path, actor=actor)

    assert code == 1
    assert "Only auditors may export the ledger." in err
    assert not path.exists()
    assert LedgerEvent.objects.count() == events


def test_an_unknown_user_cannot_export(history, tmp_path):
    code, path, err = export(tmp_path, actor="nobody")

    assert code == 1 and "No user named 'nobody'" in err
    assert not path.exists()


def test_an_unreadable_export_is_reported_as_such(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("seq,when\n1,yesterday\n", encoding="utf-8")

    status, output = verify_export(path)

    assert status == 2
    assert "unexpected CSV columns" in output
