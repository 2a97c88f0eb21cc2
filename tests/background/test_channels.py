"""Every channel against a real HTTP receiver on 127.0.0.1 that checks its real signature scheme."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from governance.ledger.models import LedgerEvent
from governance.notifications.delivery import notification_preference_add, relay
from governance.notifications.events import COMMON_DATA, NotificationEvent
from governance.notifications.models import DeliveryState, NotificationDelivery, NotificationPreference
from governance.notifications.services import notify
from governance.reviews.services import review_open
from tests import factories
from tests.background.receivers import channels_at, receiver
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

KINDS = ("webhook", "dingtalk", "feishu", "wecom", "slack", "teams")


@pytest.fixture
def local():
    with receiver() as running:
        yield running


@pytest.fixture
def every_channel(local, settings):
    """Each kind of channel configured, pointed at the local receiver, taking every review opened."""
    settings.VALUEGATE_NOTIFICATION_CHANNELS = channels_at(
        local.url, events=(NotificationEvent.REVIEW_OPENED,)
    )
    settings.VALUEGATE_NOTIFICATION_TIMEOUT = 0.5
    settings.VALUEGATE_BASE_URL = "https://valuegate.example.com"
    return local


def open_a_review(title: str = "Churn model"):
    initiative = factories.pilot_ready_for_scale_gate(title=title)
    return initiative, review_open(actor=initiative.owner, initiative=initiative)


def test_every_channel_delivers_a_review_opened_once_with_its_real_signature(members, every_channel):
    initiative, review = open_a_review()
    relay()
    assert [r.problem for r in every_channel.requests] == [None] * len(KINDS)  # every signature checked
    link = f"https://valuegate.example.com/admin/governance/gatereview/{review.pk}/change/"
    for kind in KINDS:
        (received,) = every_channel.accepted_on(kind)
        text = received.body.decode()
        assert "Churn model" in text, kind  # the initiative
        assert "awaits your sign-off" in text, kind  # what happened
        assert "sign off for your function" in text, kind  # what to do
        assert link in text, kind  # where
    webhook = every_channel.accepted_on("webhook")[0].json()
    assert webhook["type"] == "review.opened"
    assert set(webhook["data"]) == set(COMMON_DATA)  # the published schema
    assert webhook["data"]["initiative"] == {"id": initiative.pk, "title": "Churn model"}
    assert webhook["data"]["event_key"] == f"review-{review.pk}-opened"
    assert every_channel.accepted_on("dingtalk")[0].json()["msgtype"] == "markdown"
    assert every_channel.accepted_on("feishu")[0].json()["msg_type"] == "post"
    assert every_channel.accepted_on("teams")[0].json()["attachments"][0]["contentType"] == (
        "application/vnd.microsoft.card.adaptive"
    )
    # One message per channel for the event, however many committee members were notified.
    assert NotificationDelivery.objects.exclude(channel="email").count() == len(KINDS)
    assert not NotificationDelivery.objects.exclude(state=DeliveryState.SENT).exists()


@pytest.mark.parametrize("kind", ["webhook", "dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_by_the_receiver_and_the_delivery_retried(members, local, settings, kind):
    channels = channels_at(local.url, events=(NotificationEvent.REVIEW_OPENED,))
    name = "integrations" if kind == "webhook" else kind
    channels = {name: channels[name]}
    channels[name]["secret"] = "whsec_" + "d3Jvbmcta2V5" if kind == "webhook" else "wrong"
    settings.VALUEGATE_NOTIFICATION_CHANNELS = channels
    open_a_review()
    result = relay()
    assert result.failed == 1
    (received,) = local.requests
    assert received.problem is not None
    delivery = NotificationDelivery.objects.get(channel=name)
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert "401" in delivery.last_error


def test_a_receiver_answering_500_is_retried_with_backoff_and_goes_dead(members, every_channel, settings):
    settings.VALUEGATE_NOTIFICATION_MAX_ATTEMPTS = 2
    every_channel.mode = "error"
    open_a_review()
    now = configured_clock()
    first = relay(now=now)
    assert first.failed == len(KINDS)  # the e-mails went out meanwhile
    assert len(mail.outbox) == first.sent > 0
    assert relay(now=now + dt.timedelta(seconds=30)).failed == 0  # backing off
    second = relay(now=now + dt.timedelta(minutes=1))
    assert (second.failed, second.dead) == (len(KINDS), len(KINDS))
    assert NotificationDelivery.objects.filter(state=DeliveryState.DEAD).count() == len(KINDS)
    assert all(
        "HTTP 500" in e
        for e in NotificationDelivery.objects.filter(state="dead").values_list("last_error", flat=True)
    )


def test_a_receiver_down_then_back_gets_every_message_exactly_once(members, every_channel):
    """Down (port closed) for ten minutes of relays, then back on the same port."""
    for n in range(3):
        open_a_review(title=f"Initiative {n}")
    port = every_channel.port
    every_channel.stop()
    now = configured_clock()
    waited = dt.timedelta()
    attempts = 0
    while waited < dt.timedelta(minutes=10):
        relay(now=now + waited)
        attempts += 1
        waited += dt.timedelta(minutes=1)
    pending = NotificationDelivery.objects.exclude(channel="email")
    assert pending.count() == 3 * len(KINDS)
    assert all(d.state == DeliveryState.PENDING and d.attempts >= 3 for d in pending)
    assert all("Connection refused" in d.last_error or "URLError" in d.last_error for d in pending)

    every_channel.port = port
    every_channel.start()
    relay(now=now + dt.timedelta(hours=6))
    relay(now=now + dt.timedelta(hours=7))  # and again: nothing more is sent
    assert len(every_channel.requests) == 3 * len(KINDS)
    assert len(every_channel.accepted) == 3 * len(KINDS)
    assert not NotificationDelivery.objects.exclude(state=DeliveryState.SENT).exists()


def test_a_receiver_that_takes_the_message_but_answers_too_late_sees_it_again_under_the_same_key(
    members, local, settings
):
    settings.VALUEGATE_NOTIFICATION_CHANNELS = {
        "integrations": channels_at(local.url, events=(NotificationEvent.REVIEW_OPENED,))["integrations"]
    }
    settings.VALUEGATE_NOTIFICATION_TIMEOUT = 0.3
    local.mode, local.slow_seconds = "slow", 1.0
    open_a_review()
    now = configured_clock()
    assert relay(now=now).failed == 1  # timed out: the relay cannot know the receiver took it
    local.mode = "ok"
    assert relay(now=now + dt.timedelta(minutes=1)).sent == 1
    first, second = local.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the idempotency key
    assert len(local.accepted) == 1  # a receiver that deduplicates processed it once


def test_a_committee_member_gets_their_sign_off_requests_in_their_chat_tool(members, local, settings):
    settings.VALUEGATE_NOTIFICATION_CHANNELS = {"dingtalk": channels_at(local.url)["dingtalk"]}
    legal = members["legal"]
    notification_preference_add(actor=legal, event=NotificationEvent.REVIEW_OPENED, channel="dingtalk")
    assert LedgerEvent.objects.filter(action="notification.channel_chosen").count() == 1
    initiative, review = open_a_review()
    relay()
    (received,) = local.accepted_on("dingtalk")
    assert "Churn model" in received.json()["markdown"]["text"]
    assert legal.email not in {address for m in mail.outbox for address in m.to}  # chat instead of e-mail
    assert members["business"].email in {address for m in mail.outbox for address in m.to}
    # Their other notifications still come by e-mail.
    notify(
        recipients=[legal], event_key="other-1", subject="S", body="B", event=NotificationEvent.REVIEW_DECIDED
    )
    relay()
    assert legal.email in {address for m in mail.outbox for address in m.to}


def test_a_person_whose_chosen_chat_channel_was_removed_gets_e_mail_again(members, local, settings):
    settings.VALUEGATE_NOTIFICATION_CHANNELS = {"dingtalk": channels_at(local.url)["dingtalk"]}
    legal = members["legal"]
    notification_preference_add(actor=legal, event=NotificationEvent.REVIEW_OPENED, channel="dingtalk")
    settings.VALUEGATE_NOTIFICATION_CHANNELS = {}  # the chat group was taken out of the settings

    open_a_review()
    relay()

    assert local.requests == []
    assert legal.email in {address for m in mail.outbox for address in m.to}
    assert not NotificationDelivery.objects.exclude(state=DeliveryState.SENT).exists()


def test_a_person_may_only_choose_a_channel_offered_to_them(members, local, settings):
    channels = channels_at(local.url, selectable=False)
    settings.VALUEGATE_NOTIFICATION_CHANNELS = channels
    from governance.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not offered"):
        notification_preference_add(actor=members["legal"], event="review.opened", channel="dingtalk")
    with pytest.raises(InvalidInput, match="not offered"):
        notification_preference_add(actor=members["legal"], event="review.opened", channel="integrations")
    assert not NotificationPreference.objects.exists()


def test_hostile_titles_reach_every_channel_as_one_capped_line(members, every_channel):
    title = "Churn\r\nBcc: x@evil.test\t\u202e\u200b" + "模型" * 120
    initiative = factories.pilot_ready_for_scale_gate()
    from projects.models import Initiative

    Initiative.objects.filter(pk=initiative.pk).update(title=title[:200])
    initiative.refresh_from_db()
    review_open(actor=initiative.owner, initiative=initiative)
    relay()
    limits = {"dingtalk": 64, "feishu": 100, "slack": 150, "teams": 150, "webhook": 200}
    titles = {
        "dingtalk": every_channel.accepted_on("dingtalk")[0].json()["markdown"]["title"],
        "feishu": every_channel.accepted_on("feishu")[0].json()["content"]["post"]["zh_cn"]["title"],
        "slack": every_channel.accepted_on("slack")[0].json()["blocks"][0]["text"]["text"],
        "teams": every_channel.accepted_on("teams")[0].json()["attachments"][0]["content"]["body"][0]["text"],
        "webhook": every_channel.accepted_on("webhook")[0].json()["data"]["subject"],
    }
    for kind, shown in titles.items():
        assert len(shown) <= limits[kind], kind
        assert not any(ch in shown for ch in "\r\n\t\u202e\u200b"), kind
        assert shown.endswith("…"), kind
    for message in mail.outbox:
        assert len(message.subject) <= 150 and "\n" not in message.subject


def test_a_misconfigured_channel_fails_alone_and_visibly(members, local, settings):
    good = channels_at(local.url, events=(NotificationEvent.REVIEW_OPENED,))["slack"]
    settings.VALUEGATE_NOTIFICATION_CHANNELS = {
        "slack": good,
        "typo": {"kind": "slak", "url": local.url, "events": [NotificationEvent.REVIEW_OPENED]},
        "unsigned": {
            "kind": "webhook",
            "url": local.url,
            "secret": "",
            "events": [NotificationEvent.REVIEW_OPENED],
        },
    }
    settings.VALUEGATE_NOTIFICATION_MAX_ATTEMPTS = 1
    open_a_review()
    result = relay()
    assert (result.failed, result.dead) == (2, 2)
    assert len(local.accepted_on("slack")) == 1 and len(mail.outbox) == result.sent - 1
    errors = dict(NotificationDelivery.objects.filter(state="dead").values_list("channel", "last_error"))
    assert "unknown kind 'slak'" in errors["typo"] and "misconfigured" in errors["unsigned"]


def test_a_webhook_received_matches_the_payload_published_in_the_openapi_document(members, every_channel):
    """Integrations build against the schema at /api/schema/: what they receive must fit it."""
    import jsonschema
    import yaml
    from django.test import Client

    open_a_review()
    relay()
    document = yaml.safe_load(Client().get("/api/schema/").content)
    published = {name: hook["post"] for name, hook in document["webhooks"].items()}
    assert set(published) == {event.value for event in NotificationEvent} - {NotificationEvent.OTHER.value}
    schema = {
        "$ref": published["review.opened"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "components": document["components"],
    }
    received = every_channel.accepted_on("webhook")[0].json()
    jsonschema.validate(received, schema, cls=jsonschema.Draft202012Validator)
    received["data"]["initiative"] = {"id": "not a number"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(received, schema, cls=jsonschema.Draft202012Validator)
