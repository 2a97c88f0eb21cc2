"""Admin pages speak people's words: no action codes, no JSON, no labels made from field names."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from governance.reviews.models import GatePolicy
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from projects.vocabulary import Decision
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

RAW_LABELS = [
    "Requires primary kpi",
    "Signoff validity days",
    "Risk ethics for high risk",
    "Min measurements",
]
HUMAN_LABELS = [
    "Primary KPI required",
    "Sign-off validity (days)",
    "Risk & ethics sign-off for high-risk initiatives",
    "Measurements per primary KPI",
]


def text_of(response) -> str:
    """What the reader sees: the page without its tags, attributes and scripts."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", response.content.decode(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def scale_policy() -> GatePolicy:
    policy = GatePolicy.objects.get(gate="scale", version=1)
    assert {"business", "finance"} <= set(policy.required_functions)
    return policy


def test_the_policy_list_names_the_functions(people, as_user):
    scale_policy()
    text = text_of(as_user(people["chair"]).get(reverse("admin:governance_gatepolicy_changelist")))
    assert "Business, " in text and "Finance" in text
    assert '["' not in text and '"business"' not in text
    assert "Sign-off validity (days)" in text and "Signoff validity days" not in text


@pytest.mark.parametrize("who", ["chair", "auditor"])
def test_the_policy_page_labels_every_rule_in_words(people, as_user, who):
    """The chair edits the policy (a form); the auditor reads it (text)."""
    url = reverse("admin:governance_gatepolicy_change", args=[scale_policy().pk])
    response = as_user(people[who]).get(url)
    assert response.status_code == 200
    text = text_of(response)
    for label in HUMAN_LABELS:
        assert label in text
    for label in RAW_LABELS:
        assert label not in text
    assert '["' not in text and "e.g. [" not in text
    assert "Business" in text and "Finance" in text


def test_the_ledger_names_actions_as_the_catalogue_does(people, as_user):
    initiative = factories.proposal_ready_for_pilot_gate()
    review = review_open(
        actor=initiative.owner, initiative=initiative, now=configured_clock() - dt.timedelta(days=1)
    )
    signoff_record(
        actor=people["business"],
        review=review,
        function="business",
        decision=Decision.APPROVE,
        rationale="Sound.",
        now=configured_clock(),
    )
    client = as_user(people["chair"])
    text = text_of(client.get(reverse("admin:governance_ledgerevent_changelist")))
    assert "Gate review opened" in text and "Sign-off recorded" in text
    assert "review.opened" not in text and "signoff.recorded" not in text

    from governance.ledger.models import LedgerEvent

    event = LedgerEvent.objects.get(action="signoff.recorded")
    page = text_of(client.get(reverse("admin:governance_ledgerevent_change", args=[event.pk])))
    assert "Sign-off recorded" in page
    assert "signoff.recorded" not in page.split("Payload")[0]  # the payload is the record as stored


def test_notifications_name_their_events(people, as_user):
    from governance.notifications.events import NotificationEvent
    from governance.notifications.models import Notification

    initiative = factories.proposal_ready_for_pilot_gate()
    review_open(actor=initiative.owner, initiative=initiative, now=configured_clock() - dt.timedelta(days=1))
    kinds = set(Notification.objects.values_list("event", flat=True))
    assert kinds
    text = text_of(as_user(people["chair"]).get(reverse("admin:governance_notification_changelist")))
    for kind in kinds:
        assert str(NotificationEvent(kind).label) in text
        assert f" {kind} " not in text
