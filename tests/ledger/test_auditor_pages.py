"""The auditor's pages of the ledger in the admin: an export downloaded with everything needed to
verify it offline, the verification run from the browser, and events filtered by date range."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import zipfile

import pytest
from django.urls import reverse

from governance.ledger.models import LedgerEvent
from tests.ledger.conftest import NO_DJANGO, SYSTEM_PYTHON, append, clock

pytestmark = pytest.mark.django_db

LIST = reverse("admin:governance_ledgerevent_changelist")
EXPORT = reverse("admin:governance_ledgerevent_export")
VERIFY = reverse("admin:governance_ledgerevent_verify")


def logged_in(client, user):
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def auditor(client, members):
    return logged_in(client, members["auditor"])


def test_an_auditor_downloads_an_export_that_verifies_offline_with_what_came_with_it(auditor, tmp_path):
    append(5)

    response = auditor.post(EXPORT, {"since": "", "until": "", "initiative": "", "format": "json"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="valuegate-ledger-')
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(bundle.namelist())
    export_name = next(n for n in names if n.endswith(".json"))
    assert names == sorted(
        [export_name, "checkpoint.txt", "ledger.pub", "verify_export.py", "HOW-TO-VERIFY.txt"]
    )
    bundle.extractall(tmp_path)
    done = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-I",
            "-c",
            NO_DJANGO,
            "verify_export.py",
            export_name,
            "--public-key",
            "ledger.pub",
            "--checkpoint",
            "checkpoint.txt",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 events" in done.stdout
    # Recorded in the ledger as the command-line export is, by the auditor.
    exported = LedgerEvent.objects.filter(action="ledger.exported").get()
    assert exported.actor_name == "auditor" and '"format":"json"' in exported.payload


def test_a_period_that_ends_before_it_starts_is_refused_with_nothing_exported(auditor):
    append(2)

    response = auditor.post(EXPORT, {"since": "2026-03-02", "until": "2026-03-01", "format": "json"})

    assert response.status_code == 200
    assert "The period&#x27;s start comes after its end." in response.content.decode()
    assert not LedgerEvent.objects.filter(action="ledger.exported").exists()


def test_the_verification_page_says_intact_or_names_the_tampered_event(auditor, attacker, settings, tmp_path):
    from django.core.management import call_command

    events = append(4)
    settings.VALUEGATE_LEDGER_WITNESS_DIRS = [str(tmp_path)]
    call_command("ledger_checkpoint", stdout=io.StringIO(), stderr=io.StringIO())

    page = auditor.post(VERIFY, follow=True).content.decode()
    assert "Intact: 4 events, every signature verified" in page
    assert "Checkpoints from the witnesses: 4 events." in page

    attacker.set_payload(2, events[1].payload.replace('"n":1', '"n":10'))
    page = auditor.post(VERIFY, follow=True).content.decode()
    assert "FAILED at event #2: its content does not match its hash: it was edited." in page


@pytest.mark.parametrize("who", ["chair", "lead", "business"])
def test_only_auditors_export_and_verify(client, members, who):
    from tests import factories

    append(1)
    user = factories.lead(username="rosa") if who == "lead" else members[who]
    logged = logged_in(client, user)

    assert logged.get(EXPORT).status_code == 403
    assert logged.post(EXPORT, {"format": "json"}).status_code == 403
    assert logged.post(VERIFY).status_code == 403
    assert not LedgerEvent.objects.filter(action="ledger.exported").exists()


def test_the_ledger_list_offers_the_auditor_pages_to_auditors_only(auditor, client, members):
    assert EXPORT in auditor.get(LIST).content.decode()
    chair = logged_in(client, members["chair"])
    assert EXPORT not in chair.get(LIST).content.decode()


def test_events_are_filtered_by_a_range_of_utc_days(auditor):
    for day in (1, 2, 3):
        with clock(dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC)):
            append(1, note=f"day {day}")

    page = auditor.get(LIST, {"recorded_from": "2026-03-02", "recorded_to": "2026-03-03"}).content.decode()
    listed = [int(s) for s in re.findall(r'<th class="field-seq"><a href="[^"]+">(\d+)</a>', page)]

    assert listed == [3, 2]
    assert 'value="2026-03-02"' in page and 'value="2026-03-03"' in page
    assert auditor.get(LIST, {"recorded_from": "yesterday"}).status_code == 302  # the admin's "?e=1"
