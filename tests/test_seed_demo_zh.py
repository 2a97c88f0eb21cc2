"""The demo in Chinese (`seed_demo --language zh-hans`): the English story, told in other words."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from governance.access.models import UserPreferences
from governance.ledger.models import LedgerEvent
from governance.management.commands.seed_demo import DEMO_USERS
from governance.management.demo_content import NAMES, TEXTS, DemoContent, MissingDemoText
from governance.reviews.facts import next_gate_checklist
from projects.models import Initiative
from projects.vocabulary import Stage
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
# The English demo's initiatives, in the order it creates them.
ENGLISH_TITLES = [
    "Customer-service reply assistant",
    "GenAI marketing copy for product pages",
    "Contract clause extractor",
    "Invoice matching assistant",
    "Demand forecasting assistant",
    "Meeting-notes summariser",
    "Emotion detection in job interviews",
]
ZH = TEXTS["zh-hans"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def demo_users() -> list:
    usernames = [username for username, _, _ in DEMO_USERS]
    return sorted(
        get_user_model().objects.filter(username__in=usernames), key=lambda u: usernames.index(u.username)
    )


def contents(evidence) -> bytes:
    with evidence.file.open("rb") as stored:
        return stored.read()


def free_texts(initiative: Initiative) -> list[str]:
    """Every text the demo wrote about one initiative, in its own words."""
    texts = [
        initiative.title,
        initiative.department,
        initiative.pain_point,
        initiative.process_embedding,
        initiative.business_case.exit_criteria,
    ]
    for kpi in initiative.kpis.all():
        texts += [kpi.name, kpi.data_source]
        for experiment in kpi.experiments.all():
            texts += [experiment.name, experiment.success_definition]
    for evidence in initiative.evidence.all():
        texts += [evidence.title, contents(evidence).decode()]
    for review in initiative.reviews.all():
        texts += [s.rationale for s in review.signoffs.all()]
        if review.decided_by_id is not None and review.decided_by.username == "chair":
            texts.append(review.outcome_reason)  # the chair's kill reason
    return texts


def story(initiative: Initiative) -> dict:
    """What happened to one initiative, without its words: stages, numbers, dates, who signed."""
    case = initiative.business_case
    return {
        "owner": initiative.owner.username,
        "stage": initiative.stage,
        "risk": (initiative.risk_tier, initiative.uses_personal_data),
        "case": (
            case.budget,
            case.expected_annual_benefit,
            case.horizon_months,
            case.missed_periods_to_retire,
        ),
        "kpis": [
            (
                k.is_primary,
                k.direction,
                k.baseline,
                k.target,
                [(m.period, m.value, m.sample_size) for m in k.measurements.order_by("period")],
                [
                    [
                        (look.looked_on, look.control_size, look.control_successes)
                        + (look.treatment_size, look.treatment_successes)
                        for look in e.looks.order_by("looked_on")
                    ]
                    for e in k.experiments.order_by("pk")
                ],
            )
            for k in initiative.kpis.order_by("pk")
        ],
        "money": [
            (f.kind, f.month, f.amount) for f in initiative.financial_entries.order_by("month", "kind")
        ],
        "evidence": sorted(e.kind for e in initiative.evidence.all()),
        "reviews": [
            (
                r.gate,
                r.status,
                r.outcome,
                sorted((s.function.code, s.decision, s.reviewer.username) for s in r.signoffs.all()),
            )
            for r in initiative.reviews.order_by("pk")
        ],
        "ledger": list(
            LedgerEvent.objects.filter(initiative=initiative).order_by("seq").values_list("action", flat=True)
        ),
    }


def test_the_chinese_demo_writes_chinese_titles_texts_and_names_and_prefers_chinese():
    output = seed("--language", "zh-hans")

    initiatives = list(Initiative.objects.order_by("pk"))
    assert [i.title for i in initiatives] == [ZH[title] for title in ENGLISH_TITLES]
    assert all(CJK.search(i.title) for i in initiatives)
    assert f"created: {ZH['Customer-service reply assistant']}" in output
    english_words = [text for i in initiatives for text in free_texts(i) if not CJK.search(text)]
    assert english_words == []

    users = demo_users()
    assert [u.username for u in users] == [username for username, _, _ in DEMO_USERS]
    assert all(CJK.search(u.first_name) and CJK.search(u.last_name) for u in users)
    assert (users[3].last_name, users[3].first_name) == ("王", "伟")  # business
    assert {p.user.username: p.language for p in UserPreferences.objects.all()} == {
        u.username: "zh-hans" for u in users
    }

    events = LedgerEvent.objects.count()
    assert "exists: 客服回复助手" in seed("--language", "zh-hans")
    assert LedgerEvent.objects.count() == events


def test_the_chinese_demo_tells_the_english_story_stage_for_stage_and_number_for_number():
    seed("--language", "zh-hans")
    seed()  # the same story in English, next to it

    by_title = {i.title: i for i in Initiative.objects.all()}
    assert len(by_title) == 2 * len(ENGLISH_TITLES)
    for title in ENGLISH_TITLES:
        assert story(by_title[ZH[title]]) == story(by_title[title]), title
    chinese = [by_title[ZH[title]] for title in ENGLISH_TITLES]
    assert {i.stage for i in chinese} == set(Stage.values)
    # The gates read the same facts: the retail pilot fails its scale gate on the same requirements.
    now = configured_clock()
    for title in ENGLISH_TITLES:
        if by_title[title].stage in (Stage.PROPOSAL, Stage.PILOT, Stage.SCALE):
            failing = [
                sorted(r.code for r in next_gate_checklist(by_title[t].pk, now=now).failing)
                for t in (title, ZH[title])
            ]
            assert failing[0] == failing[1], title
    assert {"targets_met", "experiments", "roi", "guardrails"} <= set(
        r.code for r in next_gate_checklist(by_title[ZH[ENGLISH_TITLES[1]]].pk, now=now).failing
    )


def test_a_person_s_own_language_is_left_alone():
    user = get_user_model().objects.create_user("chair", first_name="Charlotte")
    UserPreferences.objects.create(user=user, language="en", time_zone="Europe/Paris")
    seed("--language", "zh-hans")
    user.refresh_from_db()
    assert (user.first_name, user.preferences.language, user.preferences.time_zone) == (
        "Charlotte",
        "en",
        "Europe/Paris",
    )
    assert UserPreferences.objects.get(user__username="legal").language == "zh-hans"


@pytest.mark.parametrize("args", [[], ["--language", "en"]], ids=["no option", "--language en"])
def test_the_english_demo_is_the_one_it_always_was(args):
    output = seed(*args)

    initiatives = list(Initiative.objects.order_by("pk"))
    assert [i.title for i in initiatives] == ENGLISH_TITLES
    assert output.splitlines() == [
        *(f"  created: {title}" for title in ENGLISH_TITLES),
        "Demo data ready (7 initiatives created).",
    ]
    assert [(u.username, u.first_name, u.last_name) for u in demo_users()] == [
        (username, first_name, "") for username, first_name, _ in DEMO_USERS
    ]
    assert not UserPreferences.objects.exists()
    assert not [text for i in initiatives for text in free_texts(i) if CJK.search(text)]
    retail = initiatives[1]
    assert retail.pain_point == "Product pages convert poorly; copywriters cannot keep up with 40,000 SKUs."
    assert sorted(contents(e) for e in retail.evidence.all()) == [
        b"Business case: GenAI marketing copy for product pages\n",
        b"Pilot report: GenAI marketing copy for product pages\n",
    ]


def numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d[\d,.]*\d|\d", text))


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_each_chinese_text_keeps_its_numbers_and_placeholders_and_every_user_has_a_chinese_name():
    for english, chinese in ZH.items():
        assert numbers(chinese) == numbers(english), english
        assert placeholders(chinese) == placeholders(english), english
        assert CJK.search(chinese) or chinese == english == "%", english
    assert set(NAMES["zh-hans"]) == {username for username, _, _ in DEMO_USERS}
    with pytest.raises(MissingDemoText, match="no zh-hans text"):
        DemoContent("zh-hans").text("A sentence nobody translated.")
