"""The queue's footer counts the reviews listed for the member, across its pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from governance.access import roles
from governance.reviews import queue
from governance.reviews.queue import awaiting_signoff
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from projects.vocabulary import Decision
from tests import factories
from tests.admin.conftest import staff
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


def open_review(*, hours_ago: int, **kwargs):
    initiative = factories.proposal_ready_for_pilot_gate(**kwargs)
    now = configured_clock() - dt.timedelta(hours=hours_ago)
    return review_open(actor=initiative.owner, initiative=initiative, now=now)


def sign(member, review, *, hours_ago: int = 0):
    now = configured_clock() - dt.timedelta(hours=hours_ago)
    signoff_record(
        actor=member,
        review=review,
        function="business",
        decision=Decision.APPROVE,
        rationale="Sound.",
        now=now,
    )


@pytest.fixture
def chair_in_business(members):
    return staff(roles.COMMITTEE_CHAIR, roles.FUNCTION_GROUPS["business"], username="chair-business")


def test_a_chair_member_sees_the_count_of_the_one_review_she_can_act_on(chair_in_business, client):
    open_review(hours_ago=30, sponsor=chair_in_business)
    signed = open_review(hours_ago=20)
    sign(chair_in_business, signed, hours_ago=1)
    awaiting = open_review(hours_ago=10)

    client.force_login(chair_in_business)
    url = reverse("admin:governance_gatereview_queue")
    for _ in range(2):  # the same after a reload
        response = client.get(url)
        text = response.content.decode()
        assert [item.review for item in response.context["items"]] == [awaiting]
        assert text.count('<tr data-review="') == 1
        assert "Page 1 · 1 open review asks for your function" in text
        assert "3 open reviews" not in text and "2 open reviews" not in text


def test_the_count_beyond_the_evaluated_page_agrees_with_the_later_pages(chair_in_business, monkeypatch):
    """Reviews past the chunks a page evaluates are counted by the database, by the same rules."""
    monkeypatch.setattr(queue, "MIN_CHUNK", 1)
    reviews = [open_review(hours_ago=100 - n) for n in range(8)]
    open_review(hours_ago=50, sponsor=chair_in_business)  # kept from her: not counted
    for review in (reviews[1], reviews[5], reviews[6]):
        sign(chair_in_business, review)  # approved and still counting: not listed
    # Another business member's approval counts for the function: not listed either.
    other = staff(roles.FUNCTION_GROUPS["business"], username="business-other")
    sign(other, reviews[7])

    pages = [
        awaiting_signoff(
            chair_in_business, frozenset({"business"}), now=configured_clock(), page=n, page_size=1
        )
        for n in (1, 2, 3, 4, 5)
    ]
    listed = [item.review for page in pages for item in page.items]
    assert listed == [reviews[0], reviews[2], reviews[3], reviews[4]]
    assert [page.listed for page in pages] == [4, 4, 4, 4, 4]
    assert [page.has_next for page in pages] == [True, True, True, False, False]


def test_an_expired_approval_is_counted_as_awaiting(chair_in_business, monkeypatch):
    monkeypatch.setattr(queue, "MIN_CHUNK", 1)
    reviews = [open_review(hours_ago=200 - n) for n in range(4)]
    sign(chair_in_business, reviews[3], hours_ago=150)
    later = configured_clock() + dt.timedelta(days=365)  # past every policy's sign-off validity
    first = awaiting_signoff(chair_in_business, frozenset({"business"}), now=later, page_size=1)
    assert first.listed == 4
    assert (
        awaiting_signoff(
            chair_in_business, frozenset({"business"}), now=configured_clock(), page_size=1
        ).listed
        == 3
    )
