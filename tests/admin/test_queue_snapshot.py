"""The queue reads its page of reviews and their checklists at one moment: a review decided while
the page is being read never breaks the page."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse

from governance.reviews import queue
from governance.reviews.models import GateReview
from governance.reviews.services import review_kill, review_open
from projects.vocabulary import ReviewStatus
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_a_review_killed_between_reading_the_page_and_its_checklists_leaves_the_queue_whole(
    people, as_user, monkeypatch
):
    initiatives = [factories.proposal_ready_for_pilot_gate() for _ in range(3)]
    reviews = [review_open(actor=i.owner, initiative=i) for i in initiatives]
    killed = reviews[1]
    outcome: list[object] = []

    def kill_from_another_request():
        try:
            outcome.append(review_kill(actor=people["chair"], review=killed, reason="Out of budget."))
        except Exception as error:  # asserted below
            outcome.append(error)
        finally:
            close_old_connections()
            connection.close()

    checklists = queue.review_checklists

    def decided_in_between(page_reviews, *, now):
        # The chair kills a listed review after the page's reviews were read, before their
        # checklists are. On PostgreSQL the kill commits meanwhile; on SQLite it waits for the
        # page's transaction, so give it a moment and let the page go on.
        chair = threading.Thread(target=kill_from_another_request)
        chair.start()
        chair.join(timeout=1 if connection.vendor == "sqlite" else 30)
        threads.append(chair)
        return checklists(page_reviews, now=now)

    threads: list[threading.Thread] = []
    monkeypatch.setattr(queue, "review_checklists", decided_in_between)

    response = as_user(people["business"]).get(reverse("admin:governance_gatereview_queue"))

    assert response.status_code == 200
    for thread in threads:
        thread.join(timeout=30)
    assert [type(o) for o in outcome] == [GateReview]
    assert GateReview.objects.get(pk=killed.pk).status == ReviewStatus.DECIDED
    # The page shows the queue as it stood when it was read: all three, each with its checklist.
    assert [item.review.pk for item in response.context["items"]] == [r.pk for r in reviews]
    assert all(item.checklist.requirements for item in response.context["items"])
