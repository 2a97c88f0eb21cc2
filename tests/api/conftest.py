"""A small world for API tests: a committee, two leads, initiatives in draft, proposal and pilot,
an open review, and integration tokens bound to one pilot each."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from governance.access import roles
from governance.api.tokens import token_issue
from governance.models import GateReview
from governance.reviews.services import review_open
from projects.models import KPI, Initiative
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    users: dict
    draft: Initiative
    proposal: Initiative
    pilot: Initiative
    kpi: KPI
    other_pilot: Initiative
    review: GateReview
    secrets: dict = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        """An API client acting as `role`: a person by session, an integration by its token."""
        client = APIClient()
        if role in self.secrets:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.secrets[role]}")
        elif role != "anonymous":
            client.force_login(self.users[role])
        return client


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Throttle counters live in the cache, keyed by token id; ids repeat across rolled-back tests.
    cache.clear()
    yield
    cache.clear()


def build_world() -> World:
    members = factories.committee()
    owner = factories.lead(username="lead-owner")
    other = factories.lead(username="lead-other")
    users = {
        "owner": owner,
        "other_lead": other,
        "business": members["business"],
        "legal": members["legal"],
        "finance": members["finance"],
        "technical": members["technical"],
        "chair": members["chair"],
        "auditor": members["auditor"],
        "govadmin": factories.user_in(roles.GOVERNANCE_ADMINS, username="govadmin"),
    }
    draft = factories.InitiativeFactory(owner=owner, title="Draft of the owner")
    factories.BusinessCaseFactory(initiative=draft)
    factories.KPIFactory(initiative=draft, name="Draft KPI")
    proposal = factories.proposal_ready_for_pilot_gate(owner=owner, title="Proposal of the owner")
    review = review_open(actor=owner, initiative=proposal)
    pilot = factories.pilot_ready_for_scale_gate(owner=owner, title="Pilot of the owner")
    other_pilot = factories.pilot_ready_for_scale_gate(owner=other, title="Pilot of the other lead")
    world = World(
        users=users,
        draft=draft,
        proposal=proposal,
        pilot=pilot,
        kpi=pilot.kpis.get(),
        other_pilot=other_pilot,
        review=review,
    )
    _, world.secrets["integration"] = token_issue(actor=owner, name="BI export", initiative=pilot)
    _, world.secrets["foreign_integration"] = token_issue(
        actor=other, name="CRM sync", initiative=other_pilot
    )
    _, world.secrets["owner_token"] = token_issue(actor=owner, name="Owner's laptop")
    return world


@pytest.fixture
def world(db) -> World:
    return build_world()


def url(path: str) -> str:
    return f"/api/v1/{path.lstrip('/')}"
