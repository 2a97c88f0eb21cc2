"""A person's name links only to a page the reader may open; otherwise it is text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from projects.vocabulary import Decision
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]+)"')
# Pages about a person: Django's account pages and the people-and-roles pages.
PERSON_PAGE = re.compile(r"^/admin/(auth/user|governance/member)/\d+/")
ROLES = ["lead", "business", "chair", "auditor", "govadmin"]


@pytest.fixture
def portfolio(people):
    """A pilot with measurements, experiments, costs, benefits and evidence, led by `lead`, and
    an open review that the business member signed."""
    initiative = factories.pilot_with_everything_the_scale_gate_reads(
        owner=people["lead"], sponsor=people["other_lead"]
    )
    review = review_open(
        actor=people["lead"], initiative=initiative, now=configured_clock() - dt.timedelta(days=1)
    )
    signoff_record(
        actor=people["business"],
        review=review,
        function="business",
        decision=Decision.APPROVE,
        rationale="Sound.",
        now=configured_clock(),
    )
    return initiative


def pages_of(client) -> list[str]:
    """Every model's list the reader may open, and the first rows' pages from each."""
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(changelist)
        if response.status_code != 200:
            continue
        pages.append(changelist)
        prefix = f"{changelist}"
        rows = {
            href
            for href in HREF.findall(response.content.decode())
            if re.match(rf"^{prefix}\d+/change/$", href)
        }
        pages.extend(sorted(rows)[:3])
    return pages


@pytest.mark.parametrize("who", ROLES)
def test_no_name_links_to_a_page_the_reader_may_not_open(people, as_user, portfolio, who):
    client = as_user(people[who])
    links = {}
    pages = pages_of(client)
    assert len(pages) > 3
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        for href in HREF.findall(response.content.decode()):
            if PERSON_PAGE.match(href):
                links.setdefault(href, page)
    refused = {href: page for href, page in links.items() if client.get(href).status_code != 200}
    assert refused == {}


def test_the_name_is_still_shown_and_links_for_a_reader_who_may_open_the_person(people, as_user, portfolio):
    measurement = portfolio.kpis.get(is_primary=True).measurements.first()
    url = reverse("admin:projects_kpimeasurement_change", args=[measurement.pk])
    recorder = measurement.recorded_by
    account = reverse("admin:auth_user_change", args=[recorder.pk])
    roles_page = reverse("admin:governance_member_change", args=[recorder.pk])

    chair = as_user(people["chair"]).get(url).content.decode()
    assert str(recorder) in chair and account not in chair and roles_page not in chair

    governance_admin = as_user(people["govadmin"]).get(url).content.decode()
    assert f'href="{roles_page}"' in governance_admin or f'href="{account}"' in governance_admin

    superuser = as_user(people["superuser"]).get(url).content.decode()
    assert f'<a href="{account}">{recorder}</a>' in superuser
