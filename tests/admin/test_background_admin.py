"""What the background work did is readable in the admin, scoped like everything else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.access import roles
from governance.models import ValueReview
from projects.vocabulary import Stage
from tests import factories

pytestmark = pytest.mark.django_db


def value_review(initiative):
    return ValueReview.objects.create(
        initiative=initiative,
        month=dt.date(2026, 11, 1),
        stage=Stage.PILOT,
        opened_at=timezone.now(),
        recommendation="retire",
        reasons=["Click-through rate missed its target three months running."],
        cost_to_date=Decimal("1000"),
        benefit_to_date=Decimal("10"),
    )


def test_the_chair_and_auditors_read_value_reviews_and_leads_only_their_own(client):
    mine = factories.InitiativeFactory(stage=Stage.PILOT, title="Mine")
    theirs = factories.InitiativeFactory(stage=Stage.PILOT, title="Theirs")
    value_review(mine), value_review(theirs)
    url = reverse("admin:governance_valuereview_changelist")
    for user, expected in (
        (factories.user_in(roles.COMMITTEE_CHAIR, is_staff=True), {"Mine", "Theirs"}),
        (factories.user_in(roles.AUDITORS, is_staff=True), {"Mine", "Theirs"}),
        (mine.owner, {"Mine"}),
    ):
        user.is_staff = True
        user.save()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        shown = {row.initiative.title for row in response.context["cl"].result_list}
        assert shown == expected


def test_nobody_edits_what_the_background_work_recorded(client):
    review = value_review(factories.InitiativeFactory(stage=Stage.PILOT))
    chair = factories.user_in(roles.COMMITTEE_CHAIR, is_staff=True)
    client.force_login(chair)
    change = reverse("admin:governance_valuereview_change", args=[review.pk])
    response = client.post(change, {"recommendation": "continue"})
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:governance_valuereview_delete", args=[review.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    review.refresh_from_db()
    assert review.recommendation == "retire"
