"""A Chinese committee meets no English from ValueGate: every admin page, as each role, in zh-hans.

Each page is rendered in Simplified Chinese and its visible text (and the text of titles, labels
and buttons) is searched for English: two or more Latin words in a row. What people typed (titles,
names, KPI names) and the few words that stay as they are (ValueGate, KPI, ROI, API…) are taken
out first, so what is left is a string ValueGate forgot to mark or to translate.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import reverse

from governance.reviews.services import review_open
from tests import factories

pytestmark = pytest.mark.django_db

# Words that are the same in both languages.
KEPT = re.compile(
    r"ValueGate|KPI|ROI|API|A/B|UTC|JSON|CSV|SHA-256|Ed25519|Merkle|RFC \d+|Webhook|HTTP|PDF|ZIP"
    r"|[A-Z][a-z]+/[A-Z][A-Za-z_]+"  # time zones, e.g. Asia/Shanghai
)
ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:[ '’-]+[A-Za-z][a-z]+)+")
ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
# Not prose: scripts, styles, and code (command lines, file names) shown as it is typed.
HIDDEN = {"script", "style", "code", "pre", "kbd"}


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self._hidden += 1
        values = dict(attrs)
        self.parts += [v for k, v in attrs if k in ATTRIBUTES and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data)


def data_typed_by_people() -> list[str]:
    """Every text stored in a row ValueGate or Django keeps (longest first), to be taken out."""
    texts: set[str] = set()
    for model in apps.get_models():
        fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))
        ]
        if model._meta.app_label in ("sessions", "admin", "contenttypes") or not fields:
            continue
        for row in model.objects.values_list(*fields):
            texts.update(v for v in row if isinstance(v, str) and v.strip())
    return sorted(texts, key=len, reverse=True)


def english_left(html: str, typed: list[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in typed:
        text = text.replace(value, " ")
    text = KEPT.sub(" ", text)
    return sorted(set(ENGLISH.findall(text)))


@pytest.fixture
def chinese_world(people):
    draft = factories.InitiativeFactory(owner=people["lead"], title="发票分拣草稿")
    factories.BusinessCaseFactory(initiative=draft, currency="CNY")
    factories.KPIFactory(initiative=draft, name="平均处理时长")
    proposal = factories.proposal_ready_for_pilot_gate(owner=people["lead"], title="客服问答提案")
    review = review_open(actor=people["lead"], initiative=proposal)
    pilot = factories.pilot_ready_for_scale_gate(owner=people["lead"], title="营销文案试点")
    return {"draft": draft, "proposal": proposal, "review": review, "pilot": pilot}


FORMS = [
    ("describe", "draft"),
    ("business_case", "draft"),
    ("kpi", "draft"),
    ("submit", "draft"),
    ("measurements", "pilot"),
    ("experiment", "pilot"),
    ("experiment_look", "pilot"),
    ("money", "pilot"),
    ("evidence", "pilot"),
    ("request_review", "pilot"),
    ("sign", "review"),
    ("hold", "review"),
    ("kill", "review"),
    ("advance", "review"),
]


def pages_of(who: str, world) -> list[str]:
    pages = [
        reverse("admin:index"),
        reverse("my-preferences"),
        reverse("admin:projects_initiative_dashboard"),
        reverse("admin:projects_initiative_change", args=[world["proposal"].pk]),
        reverse("admin:projects_initiative_change", args=[world["pilot"].pk]),
        reverse("admin:projects_initiative_change", args=[world["draft"].pk]),
    ]
    if who not in ("lead", "auditor"):
        pages.append(reverse("admin:governance_gatereview_queue"))
    # Every form of the workflow: a lead's on the draft and the pilot, the committee's on the review.
    for view, key in FORMS:
        app_model = "governance_gatereview" if key == "review" else "projects_initiative"
        pages.append(reverse(f"admin:{app_model}_{view}", args=[world[key].pk]))
    pages += [
        reverse("admin:projects_initiative_add"),
        reverse("admin:governance_ledgerevent_export"),
        reverse("admin:governance_ledgerevent_verify"),
    ]
    for model in admin.site._registry:
        label = f"{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"admin:{label}_changelist"))
        first = model.objects.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{label}_change", args=[first.pk]))
    return pages


@pytest.mark.parametrize("who", ["chair", "lead", "auditor", "govadmin", "legal"])
def test_every_page_a_role_opens_reads_in_chinese(people, chinese_world, client, who):
    client.force_login(people[who])
    typed = data_typed_by_people()
    found: dict[str, list[str]] = {}
    for path in pages_of(who, chinese_world):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue  # a page the role may not open says so, and is walked for the role that may
        assert response["Content-Language"] == "zh-hans"
        left = english_left(response.content.decode(), typed)
        if left:
            found[path] = left
    assert not found, "English left on pages read in Chinese:\n" + "\n".join(
        f"  {path}: {words}" for path, words in found.items()
    )


def test_the_sign_in_page_reads_in_chinese(client):
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert english_left(response.content.decode(), []) == []
