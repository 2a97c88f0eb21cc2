"""Evidence: what is accepted, what is refused (and then nothing is stored), how it is downloaded."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from governance.errors import InvalidInput
from governance.models import LedgerEvent
from governance.value.services import evidence_submit
from projects.models import Evidence
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
CSV = b"month,first_response_minutes\n2026-01,51\n2026-02,44\n"
TEXT = "Pilot report: first response time fell to 37 minutes. Übersicht ✓\n".encode()
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def office(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<xml/>")
    return buffer.getvalue()


XLSX = office("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
DOCX = office("[Content_Types].xml", "word/document.xml")
PLAIN_ZIP = office("readme.txt")


@pytest.fixture
def initiative(people):
    return factories.InitiativeFactory(owner=people["lead"])


def submit(initiative, content: bytes, name: str, **kwargs):
    return evidence_submit(
        actor=initiative.owner,
        initiative=initiative,
        kind=kwargs.pop("kind", "other"),
        title=kwargs.pop("title", "Numbers"),
        file=ContentFile(content, name=name),
        **kwargs,
    )


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_nothing_stored():
    assert not Evidence.objects.exists()
    assert not LedgerEvent.objects.filter(action="evidence.submitted").exists()
    assert stored_files() == []


# What is accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "media_type"),
    [
        (PDF, "case.pdf", "application/pdf"),
        (PNG, "funnel.PNG", "image/png"),
        (JPEG, "whiteboard.jpeg", "image/jpeg"),
        (XLSX, "costs.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (DOCX, "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (CSV, "kpi.csv", "text/csv; charset=utf-8"),
        (TEXT, "notes.txt", "text/plain; charset=utf-8"),
    ],
)
def test_each_accepted_type_is_stored_under_a_server_name_with_its_sha256(
    initiative, content, name, media_type
):
    item = submit(initiative, content, name)
    assert item.sha256 == hashlib.sha256(content).hexdigest()
    assert Path(item.file.name).name == f"{item.sha256[:16]}.bin"
    assert name.split(".")[0] not in item.file.name
    event = LedgerEvent.objects.get(action="evidence.submitted")
    assert f'"media_type":"{media_type}"' in event.payload


# What is refused, with nothing stored -------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (HTML, "chart.png", "HTML, XML or SVG markup"),
        (HTML, "page.html", ".html files are not accepted"),
        (SVG, "logo.txt", "markup"),
        (PDF, "photo.png", "named .png but its content is a PDF document"),
        (PNG, "report.pdf", "named .pdf but its content is a PNG image"),
        (DOCX, "costs.xlsx", "named .xlsx but its content is a Word document"),
        (PLAIN_ZIP, "costs.xlsx", "neither an Excel workbook nor a Word document"),
        (b"PK\x03\x04broken", "costs.xlsx", "damaged"),
        (b"caf\xe9 au lait", "notes.txt", "not a file type ValueGate accepts"),
        (b"plain\x00text", "notes.txt", "NUL"),
        (b"MZ\x90\x00\x03", "tool.exe", ".exe files are not accepted"),
        (PDF, "no-extension", "needs an extension"),
        (PDF, "../../etc/report.pdf", "path separator"),
        (PDF, "..\\report.pdf", "path separator"),
        (PDF, "report..pdf", "'..'"),
        (PDF, "report\x00.pdf", "NUL"),
        (PDF, "invoice\u202efdp.exe", "bidirectional formatting character (U+202E)"),
        (PDF, "invoice\u2066.pdf", "bidirectional"),
        (PDF, "tab\tname.pdf", "control character"),
        (PDF, ".hidden.pdf", "may not start with a dot"),
    ],
)
def test_refused_uploads_say_why_and_store_nothing(initiative, content, name, reason):
    with pytest.raises(InvalidInput, match=re.escape(reason)):
        submit(initiative, content, name)
    assert_nothing_stored()


def test_a_file_over_the_size_limit_is_refused(initiative, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(InvalidInput, match="limited to"):
        submit(initiative, PDF + b" " * 2000, "big.pdf")
    assert_nothing_stored()
    assert submit(initiative, PDF, "small.pdf").pk


def test_the_declared_name_is_checked_rather_than_the_file_object_s(initiative):
    with pytest.raises(InvalidInput, match="path separator"):
        submit(initiative, PDF, "fine.pdf", file_name="../fine.pdf")
    assert_nothing_stored()


# Through the admin's upload page ------------------------------------------------------------


def multipart(fields: dict[str, str], *, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body whose file name is sent exactly as given (the test client would strip it)."""
    boundary = "vgBoundary7MA4YWxkTrZu0gW"
    lines = []
    for key, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"'.encode(),
            b"",
            value.encode(),
        ]
    lines += [
        f"--{boundary}".encode(),
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"'.encode(),
        b"Content-Type: application/octet-stream",
        b"",
        content,
        f"--{boundary}--".encode(),
        b"",
    ]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


def upload(client, initiative, *, file_name: str, content: bytes, **fields):
    body, content_type = multipart(
        {"kind": "other", "title": "Numbers", **fields}, file_name=file_name, content=content
    )
    return client.post(
        reverse("admin:projects_initiative_evidence", args=[initiative.pk]), body, content_type=content_type
    )


def test_the_lead_uploads_evidence_through_the_admin_and_sees_it_on_the_page(initiative, as_user):
    client = as_user(initiative.owner)
    response = upload(client, initiative, file_name="report.pdf", content=PDF, title="Pilot report")
    assert response.status_code == 302
    item = Evidence.objects.get()
    assert item.title == "Pilot report" and item.submitted_by == initiative.owner
    page = client.get(response.url)
    assert "Pilot report" in page.content.decode()


@pytest.mark.parametrize(
    ("file_name", "content", "reason"),
    [
        ("../../../etc/cron.d/report.txt", TEXT, "path separator"),
        ("..\\..\\report.txt", TEXT, "path separator"),
        ("report\x00.txt", TEXT, "NUL character"),
        ("invoice\u202etxt.exe", TEXT, "bidirectional formatting character"),
        ("evil\u202egnp.html", HTML, "bidirectional formatting character"),
        ("chart.png", HTML, "HTML, XML or SVG markup"),
        ("photo.png", PDF, "its content is a PDF document"),
    ],
)
def test_forged_uploads_through_the_admin_are_refused_with_the_reason(
    initiative, as_user, file_name, content, reason
):
    response = upload(as_user(initiative.owner), initiative, file_name=file_name, content=content)
    assert response.status_code == 200  # the form again, with the reason
    assert reason in response.content.decode()
    assert_nothing_stored()


@pytest.mark.parametrize(("file_name", "reason"), factories.FORGED_FILE_NAMES)
def test_forged_file_names_are_refused_by_the_admin_as_by_the_api(initiative, as_user, file_name, reason):
    response = upload(as_user(initiative.owner), initiative, file_name=file_name, content=PDF)
    assert response.status_code == 200  # the form again, with the reason
    assert escape(reason) in response.content.decode()
    assert_nothing_stored()


def test_an_oversized_upload_through_the_admin_is_refused(initiative, as_user, settings):
    settings.EVIDENCE_MAX_BYTES = 2048
    response = upload(as_user(initiative.owner), initiative, file_name="big.pdf", content=PDF + b"x" * 4096)
    assert response.status_code == 200
    assert "evidence files are limited to" in response.content.decode()
    assert_nothing_stored()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(initiative, as_user, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = upload(
        as_user(initiative.owner), initiative, file_name="big.pdf", content=PDF + b"x" * 200_000
    )
    assert response.status_code == 413
    assert "larger than the 1 KB limit" in response.content.decode()
    assert_nothing_stored()


def test_the_upload_page_still_checks_csrf(initiative):
    client = Client(enforce_csrf_checks=True)
    client.force_login(initiative.owner)
    response = upload(client, initiative, file_name="report.pdf", content=PDF)
    assert response.status_code == 403
    assert_nothing_stored()


@pytest.mark.parametrize("who", ["other_lead", "auditor", "business", "chair", "govadmin"])
def test_only_the_initiative_s_lead_uploads(initiative, people, as_user, who):
    response = upload(as_user(people[who]), initiative, file_name="report.pdf", content=PDF)
    assert response.status_code in (403, 404)
    assert_nothing_stored()


# Downloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type", "extension"),
    [
        (PDF, "case.pdf", "application/pdf", ".pdf"),
        (PNG, "funnel.png", "image/png", ".png"),
        (TEXT, "notes.txt", "text/plain; charset=utf-8", ".txt"),
        (CSV, "kpi.csv", "text/csv; charset=utf-8", ".csv"),
        (XLSX, "costs.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ],
)
def test_downloads_are_attachments_of_the_detected_type_without_sniffing(
    initiative, people, as_user, content, name, content_type, extension
):
    item = submit(initiative, content, name, title="Pilot report")
    response = as_user(people["auditor"]).get(reverse("evidence-download", args=[item.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"] == f'attachment; filename="pilot-report-{item.pk}{extension}"'
    assert b"".join(response.streaming_content) == content


def test_downloads_follow_who_may_see_the_initiative(initiative, people, as_user, client):
    item = submit(initiative, PDF, "case.pdf")
    url = reverse("evidence-download", args=[item.pk])
    assert as_user(people["lead"]).get(url).status_code == 200
    assert as_user(people["business"]).get(url).status_code == 200
    assert as_user(people["other_lead"]).get(url).status_code == 404
    assert as_user(people["nobody"]).get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_a_file_changed_on_disk_is_not_served(initiative, people, as_user):
    item = submit(initiative, PDF, "case.pdf")
    Path(item.file.path).write_bytes(PDF.replace(b"Catalog", b"Catalug"))
    response = as_user(people["auditor"]).get(reverse("evidence-download", args=[item.pk]))
    assert response.status_code == 409
    assert "no longer matches" in response.content.decode()


# Versions -----------------------------------------------------------------------------------


def test_a_revision_is_a_new_version_and_the_pinned_one_stays(initiative, people, as_user):
    first = submit(initiative, PDF, "case.pdf", kind="business_case", title="Business case")
    first_path = Path(first.file.path)
    second = submit(
        initiative,
        PDF + b"% revised\n",
        "case.pdf",
        kind="business_case",
        title="Business case v2",
        replaces=first,
    )
    assert second.replaces == first and first_path.read_bytes() == PDF
    assert first.file.name != second.file.name
    page = as_user(people["auditor"]).get(reverse("admin:projects_initiative_change", args=[initiative.pk]))
    html = page.content.decode()
    assert "v2" in html and "(superseded)" in html
    with pytest.raises(InvalidInput, match="already replaced"):
        submit(initiative, PDF + b"% third\n", "case.pdf", kind="business_case", replaces=first)
    with pytest.raises(InvalidInput, match="same kind"):
        submit(initiative, PDF, "case.pdf", kind="pilot_report", replaces=second)
    other = factories.InitiativeFactory(owner=people["lead"])
    with pytest.raises(InvalidInput, match="same initiative"):
        submit(other, PDF, "case.pdf", kind="business_case", replaces=second)


def test_stored_evidence_cannot_be_changed_or_deleted_in_the_admin(initiative, people, as_user):
    item = submit(initiative, PDF, "case.pdf")
    for who in ("lead", "superuser", "auditor"):
        client = as_user(people[who])
        change = reverse("admin:projects_evidence_change", args=[item.pk])
        assert client.post(change, {"title": "Edited", "kind": "other"}).status_code == 403
        assert client.post(change, {"title": "Copy", "kind": "other", "_saveasnew": "1"}).status_code == 403
        delete = reverse("admin:projects_evidence_delete", args=[item.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    item.refresh_from_db()
    assert item.title == "Numbers" and Path(item.file.path).read_bytes() == PDF
    assert Evidence.objects.count() == 1
