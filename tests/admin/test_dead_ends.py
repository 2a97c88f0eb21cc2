"""Nobody meets a dead end: a refusal or a missing page is a page in the admin's look that says why
and where to go; `/` leads to the workspace; no page asks any other site for anything."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# Any address on another host in what a page loads or links to: src, href, action, url(...).
EXTERNAL = re.compile(
    r"""(?:src|href|action)\s*=\s*["']\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I
)


def test_the_root_leads_to_the_workspace(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_a_lead_refused_the_queue_is_told_why_and_where_to_go(people, as_user):
    response = as_user(people["lead"]).get(reverse("admin:governance_gatereview_queue"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "You may not open this page" in page
    assert 'href="/admin/"' in page  # back to their own workspace
    assert "People and roles" in page
    assert "403 Forbidden" not in page


def test_a_missing_page_is_a_workspace_page_naming_the_address(people, as_user):
    response = as_user(people["chair"]).get("/admin/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no such page" in page
    assert "/admin/no-such-page/" in page
    assert 'href="/admin/"' in page


def test_a_missing_page_offers_a_visitor_the_sign_in(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no such page" in page
    assert "/admin/login/?next=/no-such-page/" in page


def test_every_admin_page_carries_valuegates_icon(people, as_user):
    client = as_user(people["chair"])
    page = client.get(reverse("admin:index")).content.decode()
    assert '<link rel="icon" href="/static/governance/favicon.svg" type="image/svg+xml">' in page
    # Browsers that ask for /favicon.ico anyway are sent to it.
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/governance/favicon.svg"


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/admin/login/"),
        (None, "/api/docs/"),
        (None, "/api/redoc/"),
        ("chair", "/admin/"),
        ("chair", "queue"),
        ("chair", "dashboard"),
        ("lead", "/admin/"),
        ("lead", "queue"),
        ("auditor", "/admin/governance/ledgerevent/"),
        ("lead", "/no-such-page/"),
    ],
)
def test_no_page_asks_another_site_for_anything(client, people, who, path):
    named = {
        "queue": reverse("admin:governance_gatereview_queue"),
        "dashboard": reverse("admin:projects_initiative_dashboard"),
    }
    if who is not None:
        client.force_login(people[who])
    response = client.get(named.get(path, path))
    assert response.status_code in (200, 403, 404)
    assert EXTERNAL.findall(response.content.decode()) == []


def test_only_the_api_reference_lets_redoc_style_itself():
    from django.test import Client

    client = Client()
    redoc = client.get("/api/redoc/")["Content-Security-Policy"]
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in redoc
    assert "'unsafe-inline'" not in docs
    assert (
        "script-src 'self'" in redoc and "'unsafe-inline'" not in redoc.split("script-src")[1].split(";")[0]
    )
