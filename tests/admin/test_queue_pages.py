"""The sign-off queue comes a page at a time, oldest first, however many reviews are open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from governance.reviews.models import GateReview
from governance.reviews.queue import PAGE_SIZE, awaiting_signoff
from governance.reviews.services import review_open
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


def test_pages_follow_each_other_oldest_first(members, client):
    start = configured_clock() - dt.timedelta(days=90)
    for n in range(PAGE_SIZE + 7):
        initiative = factories.proposal_ready_for_pilot_gate()
        review_open(actor=initiative.owner, initiative=initiative, now=start + dt.timedelta(hours=n))
    business = members["business"]
    first = awaiting_signoff(business, frozenset({"business"}), now=configured_clock())
    second = awaiting_signoff(business, frozenset({"business"}), now=configured_clock(), page=2)
    assert len(first.items) == PAGE_SIZE and first.has_next and not first.has_previous
    assert len(second.items) == 7 and not second.has_next and second.has_previous
    opened = [item.review.opened_at for item in first.items + second.items]
    assert opened == sorted(opened)
    assert [i.review.pk for i in first.items + second.items] == list(
        GateReview.objects.order_by("opened_at").values_list("pk", flat=True)
    )

    business.is_staff = True
    business.save()
    client.force_login(business)
    page = client.get(reverse("admin:governance_gatereview_queue") + "?page=2")
    assert page.status_code == 200
    assert len(page.context["items"]) == 7
    assert client.get(reverse("admin:governance_gatereview_queue") + "?page=nonsense").status_code == 200


def test_beyond_the_counted_limit_the_queue_says_more_than(members, client, monkeypatch):
    from governance.reviews import queue

    monkeypatch.setattr(queue, "COUNTED_UP_TO", 3)
    start = configured_clock() - dt.timedelta(days=30)
    for n in range(5):
        initiative = factories.proposal_ready_for_pilot_gate()
        review_open(actor=initiative.owner, initiative=initiative, now=start + dt.timedelta(hours=n))
    business = members["business"]
    page = awaiting_signoff(business, frozenset({"business"}), now=configured_clock())
    # Every review is still listed; only the count stops at the limit.
    assert (len(page.items), page.listed, page.more_listed) == (5, 3, True)

    business.is_staff = True
    business.save()
    client.force_login(business)
    response = client.get(reverse("admin:governance_gatereview_queue"))
    assert "more than 3 open reviews ask for your functions" in response.content.decode()

    monkeypatch.setattr(queue, "COUNTED_UP_TO", 5)
    exact = awaiting_signoff(business, frozenset({"business"}), now=configured_clock())
    assert (exact.listed, exact.more_listed) == (5, False)


def test_the_queue_says_how_many_reviews_segregation_of_duties_keeps_from_the_member(members, client):
    from django.contrib.auth.models import Group

    from governance.access import roles

    business = members["business"]
    business.groups.add(Group.objects.get(name=roles.PROJECT_LEADS))
    business.is_staff = True
    business.save()
    own = factories.proposal_ready_for_pilot_gate(owner=business)
    review_open(actor=business, initiative=own, now=configured_clock() - dt.timedelta(days=2))
    sponsored = factories.proposal_ready_for_pilot_gate(sponsor=business)
    review_open(actor=sponsored.owner, initiative=sponsored, now=configured_clock() - dt.timedelta(days=1))
    other = factories.proposal_ready_for_pilot_gate()
    review_open(actor=other.owner, initiative=other, now=configured_clock() - dt.timedelta(hours=3))

    page = awaiting_signoff(business, frozenset({"business"}), now=configured_clock())
    assert [item.review.initiative for item in page.items] == [other]
    assert (page.listed, page.withheld) == (1, 2)

    client.force_login(business)
    text = client.get(reverse("admin:governance_gatereview_queue")).content.decode()
    assert "2 more open reviews ask for your functions but are not listed: segregation of duties" in text
