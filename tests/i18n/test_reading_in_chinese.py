"""Choosing the language and time zone, and what each reader then sees: pages, messages sent to
them, the API's words (its codes and times stay as they are), and decisions recorded as codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from governance.access import roles
from governance.access.models import UserPreferences
from governance.ledger.models import LedgerEvent
from governance.notifications.models import Notification
from governance.reasons import say, say_stored
from governance.reviews.services import review_kill, review_open
from governance.reviews.signoffs import signoff_record
from governance.rules.reasons import Reason
from projects.money import format_money
from tests import factories
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db


def staff(*groups, username):
    return factories.user_in(*groups, username=username, is_staff=True)


def prefer(user, language="", time_zone=""):
    UserPreferences.objects.update_or_create(
        user=user, defaults={"language": language, "time_zone": time_zone}
    )


# Choosing the language ------------------------------------------------------------------------


def test_with_no_choice_the_pages_are_in_english(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert "Log in" in page and "登录" not in page


def test_the_browser_s_language_picks_chinese(client):
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_the_header_switcher_keeps_a_signed_in_person_s_language_across_sessions(client):
    chair = staff(roles.COMMITTEE_CHAIR, username="chair")
    client.force_login(chair)
    response = client.post(reverse("choose-language"), {"language": "zh-hans", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert UserPreferences.objects.get(user=chair).language == "zh-hans"
    # A new session, a browser that asks for English: the saved choice wins.
    fresh = client.__class__()
    fresh.force_login(chair)
    page = fresh.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "我的偏好设置" in page


def test_the_switcher_never_sends_anyone_to_another_site_and_refuses_unknown_languages(client):
    response = client.post(
        reverse("choose-language"), {"language": "zh-hans", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("admin:index")
    response = client.post(reverse("choose-language"), {"language": "tlh", "next": "/admin/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get(reverse("choose-language")).status_code == 405


def test_a_wrong_time_zone_is_refused_and_nothing_is_saved(client):
    lead = staff(roles.PROJECT_LEADS, username="lead")
    client.force_login(lead)
    response = client.post(reverse("my-preferences"), {"language": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Mars/Olympus is not a time zone name" in response.content.decode()
    assert not UserPreferences.objects.filter(user=lead).exists()


def test_pages_show_times_in_the_person_s_time_zone_and_say_which(client):
    lead = staff(roles.PROJECT_LEADS, username="lead")
    client.force_login(lead)
    client.post(reverse("my-preferences"), {"language": "en", "time_zone": "Asia/Shanghai"})
    initiative = factories.InitiativeFactory(owner=lead, title="Invoice triage")
    initiative.stage_entered_at = dt.datetime(2026, 3, 1, 20, 30, tzinfo=dt.UTC)
    initiative.save(update_fields=["stage_entered_at"])
    page = client.get(reverse("admin:projects_initiative_change", args=[initiative.pk])).content.decode()
    assert "Times: Asia/Shanghai" in page
    # 20:30 UTC on 1 March is 04:30 on 2 March in Shanghai.
    assert "<strong>2026-03-02</strong>" in page and "2026-03-01" not in page
    # The same page for someone who chose no zone: the deployment's (UTC here).
    other = staff(roles.COMMITTEE_CHAIR, username="chair")
    client.force_login(other)
    page = client.get(reverse("admin:projects_initiative_change", args=[initiative.pk])).content.decode()
    assert "Times: UTC" in page and "<strong>2026-03-01</strong>" in page


def test_the_api_answers_in_utc_whatever_the_person_s_time_zone(client):
    lead = staff(roles.PROJECT_LEADS, username="lead")
    prefer(lead, time_zone="Asia/Shanghai")
    api = APIClient()
    api.force_login(lead)
    factories.InitiativeFactory(owner=lead, title="Invoice triage")
    body = api.get("/api/v1/initiatives/").json()
    created = body["results"][0]["created_at"] if "results" in body else body[0]["created_at"]
    assert created.endswith("Z") or created.endswith("+00:00")


def test_the_api_words_its_refusals_in_the_request_s_language_and_keeps_its_codes():
    api = APIClient()
    answer = api.get("/api/v1/initiatives/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = APIClient().get("/api/v1/initiatives/")
    assert answer.status_code == english.status_code == 401
    said, english_said = answer.json()["error"], english.json()["error"]
    assert said["code"] == english_said["code"] == "not_authenticated"
    assert english_said["message"] == "Authentication credentials were not provided."
    assert any("\u4e00" <= ch <= "\u9fff" for ch in said["message"])


# Messages go in each recipient's words ----------------------------------------------------------


def test_each_committee_member_hears_of_a_review_in_their_own_language():
    now = configured_clock()
    members = factories.committee()
    prefer(members["legal"], language="zh-hans")
    proposal = factories.proposal_ready_for_pilot_gate(title="Invoice triage")
    with translation.override("en"):
        review_open(actor=proposal.owner, initiative=proposal, now=now)
    legal = Notification.objects.get(recipient=members["legal"], event_key__endswith="-opened")
    business = Notification.objects.get(recipient=members["business"], event_key__endswith="-opened")
    assert legal.subject == "[ValueGate] 试点关口等待您的签核：Invoice triage"
    assert business.subject == "[ValueGate] Pilot gate awaits your sign-off: Invoice triage"
    assert "法务" in legal.body and "legal" in business.body


# Decisions are recorded as codes and read in any language ---------------------------------------


def test_a_decided_review_keeps_its_reasons_as_codes_and_reads_them_in_chinese():
    now = configured_clock()
    members = factories.committee()
    proposal = factories.proposal_ready_for_pilot_gate(title="Invoice triage")
    review = review_open(actor=proposal.owner, initiative=proposal, now=now)
    signoff_record(
        actor=members["legal"],
        review=review,
        function="legal",
        decision="reject",
        rationale="No DPA.",
        now=now,
    )
    decided = json.loads(LedgerEvent.objects.get(action="review.decided").payload)
    # The ledger's words are English, and beside them the codes every reader's language is made from.
    assert decided["reason"] == "A committee function rejected."
    assert decided["reason_code"] == {"code": "review.settled.kill", "params": {}}
    rejected = next(r for r in decided["requirements"] if r["code"] == "signoff:legal")
    assert rejected["reason"] == "The legal reviewer rejected."
    assert rejected["reason_code"] == {
        "code": "signoff.rejected",
        "params": {"function": {"term": "function", "value": "legal"}},
    }
    review.refresh_from_db()
    with translation.override("zh-hans"):
        assert say_stored(rejected["reason_code"]) == "法务评审人已否决。"
        assert review.outcome_reason_in_words == "有委员会职能已否决。"
        # What was recorded before reasons were codes is shown as it was written.
        assert say_stored(rejected["reason"]) == "The legal reviewer rejected."
    with translation.override("en"):
        assert review.outcome_reason_in_words == "A committee function rejected."


def test_a_kill_keeps_the_chair_s_own_words():
    now = configured_clock()
    members = factories.committee()
    proposal = factories.proposal_ready_for_pilot_gate(title="Invoice triage")
    review = review_open(actor=proposal.owner, initiative=proposal, now=now)
    review_kill(actor=members["chair"], review=review, reason="No budget this year.", now=now)
    decided = json.loads(LedgerEvent.objects.get(action="review.decided").payload)
    assert decided["reason"] == "No budget this year." and "reason_code" not in decided
    review.refresh_from_db()
    with translation.override("zh-hans"):
        assert review.outcome_reason_in_words == "No budget this year."


def test_a_review_valuegate_settles_itself_reads_its_reason_in_the_reader_s_language():
    reason = Reason.of("review.settled.kill")
    with translation.override("en"):
        assert say(reason) == "A committee function rejected."
    with translation.override("zh-hans"):
        assert say(reason) == "有委员会职能已否决。"


# Money ----------------------------------------------------------------------------------------


def test_money_carries_its_currency_and_the_reader_s_locale():
    with translation.override("en"):
        assert format_money(1050000, "USD") == "$1,050,000.00"
        assert format_money(1050000, "CNY", whole=True) == "CN¥1,050,000"
    with translation.override("zh-hans"):
        assert format_money(1050000, "CNY", whole=True) == "¥1,050,000"
        assert format_money(1050000, "USD") == "US$1,050,000.00"


def test_a_business_case_refuses_a_currency_that_is_not_iso_4217():
    from django.core.exceptions import ValidationError

    case = factories.BusinessCaseFactory.build(initiative=factories.InitiativeFactory(), currency="XYZ")
    with pytest.raises(ValidationError, match="XYZ is not an ISO 4217 currency code"):
        case.full_clean()


def test_a_stored_reason_that_does_not_fit_its_words_is_shown_as_recorded_not_a_crash():
    with translation.override("zh-hans"):
        assert say_stored({"code": "signoff.awaiting", "params": {}}) == "signoff.awaiting {}"
        assert say_stored({"code": "no.such.code", "params": {"x": 1}}) == "no.such.code"
        assert say_stored({"params": "not an object"}) == '{"params": "not an object"}'
        assert say_stored({"code": "roi.projected", "params": {"cost": {"money": "NaN?"}}}).startswith(
            "roi.projected"
        )


def test_a_reminder_names_the_day_a_review_opened_in_each_recipient_s_time_zone():
    from governance.oversight.follow_ups import overdue_signoffs_chase

    members = factories.committee()
    prefer(members["legal"], language="zh-hans", time_zone="Asia/Shanghai")
    proposal = factories.proposal_ready_for_pilot_gate(title="Invoice triage")
    opened = dt.datetime(2026, 3, 1, 20, 30, tzinfo=dt.UTC)  # 2 March, 04:30 in Shanghai
    review_open(actor=proposal.owner, initiative=proposal, now=opened)
    overdue_signoffs_chase(now=opened + dt.timedelta(days=4))
    legal = Notification.objects.get(recipient=members["legal"], event_key__endswith="-legal-reminder")
    business = Notification.objects.get(
        recipient=members["business"], event_key__endswith="-business-reminder"
    )
    assert "2026-03-02" in legal.body and "法务" in legal.body
    assert "The review opened on 2026-03-01" in business.body


def test_the_dashboard_totals_a_one_currency_portfolio_in_it_and_says_when_currencies_are_mixed(client):
    chair = staff(roles.COMMITTEE_CHAIR, username="chair")
    client.force_login(chair)
    factories.BusinessCaseFactory(initiative=factories.InitiativeFactory(), budget=1_000_000, currency="CNY")
    factories.BusinessCaseFactory(initiative=factories.InitiativeFactory(), budget=50_000, currency="CNY")
    url = reverse("admin:projects_initiative_dashboard")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "¥1,050,000" in page and "US$" not in page and 'id="mixed-currencies"' not in page
    factories.BusinessCaseFactory(initiative=factories.InitiativeFactory(), budget=10, currency="USD")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="mixed-currencies"' in page and "(CNY, USD)" in page
    assert "$1,050,010" in page  # added as they are, in the deployment's currency
