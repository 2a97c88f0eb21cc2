"""Every role against every admin page and action: allowed where it should be, refused where not,
including direct requests to URLs a page does not offer, forged inline rows and "save as new"."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from governance.ledger.models import LedgerEvent
from governance.reviews.models import Condition, GatePolicy, GateReview, SignOff
from governance.reviews.services import review_open
from projects.models import KPI, Evidence, Initiative
from projects.vocabulary import Stage
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = [
    "lead",
    "other_lead",
    "business",
    "legal",
    "risk_ethics",
    "chair",
    "auditor",
    "govadmin",
    "superuser",
    "nobody",
]
COMMITTEE = {"business", "legal", "finance", "technical", "risk_ethics", "chair"}
READ_ALL = {*COMMITTEE, "auditor", "govadmin", "superuser"}

# The models ValueGate registers in the admin, by app; their pages are checked for every role.
REGISTERED = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in ("projects", "governance")
)
# Who may open each model's list (a lead's lists show their own initiatives' rows only).
LEAD_READS = {
    "projects.initiative",
    "projects.kpimeasurement",
    "projects.kpisource",  # where their KPIs are measured from, and the readings
    "projects.sourcereading",
    "projects.experiment",
    "projects.financialentry",
    "projects.evidence",
    "governance.gatereview",
    "governance.signoff",
    "governance.condition",
    "governance.gatepolicy",
    "governance.committeefunction",
    "governance.valuereview",  # their own initiatives' monthly value reviews
}
# People and roles: only for those who manage membership (tests/admin/test_members.py).
MEMBERSHIP = "governance.member"
MANAGES_MEMBERSHIP = {"govadmin", "superuser"}


# Notifications: each person their own (in-app) and their own channel choices; the deliveries
# (dead ones included) only the chair's and the operators'.
OWN_NOTIFICATIONS = {"governance.notification", "governance.notificationpreference"}
DELIVERIES = "governance.notificationdelivery"
SEES_DELIVERIES = {"chair", "govadmin", "superuser"}


def reads_list(who: str, label: str) -> bool:
    if label == MEMBERSHIP:
        return who in MANAGES_MEMBERSHIP or who == "auditor"  # auditors read who held which role
    if label in OWN_NOTIFICATIONS:
        return who != "nobody"
    if label == DELIVERIES:
        return who in SEES_DELIVERIES
    return who in READ_ALL or (who in ("lead", "other_lead") and label in LEAD_READS)


@pytest.fixture
def world(people):
    """A lead's draft (ready to submit) and proposal under review, another lead's draft."""
    draft = factories.InitiativeFactory(owner=people["lead"], title="Lead's draft")
    factories.BusinessCaseFactory(initiative=draft)
    factories.KPIFactory(initiative=draft)
    proposal = factories.proposal_ready_for_pilot_gate(owner=people["lead"], title="Lead's proposal")
    review = review_open(actor=people["lead"], initiative=proposal)
    pilot = factories.pilot_ready_for_scale_gate(owner=people["lead"], title="Lead's pilot")
    other = factories.InitiativeFactory(owner=people["other_lead"], title="Someone else's secret draft")
    factories.evidence(other)
    return {"draft": draft, "proposal": proposal, "review": review, "pilot": pilot, "other": other}


def admin_url(label: str, view: str, *args) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def any_pk(label: str) -> int:
    app, model = label.split(".")
    model_class = next(m for m in admin.site._registry if m._meta.label_lower == label)
    obj = model_class.objects.order_by("pk").first()
    return obj.pk if obj is not None else 1


# Lists, add forms, change and delete, for every registered model ------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_lists_open_for_the_roles_that_read_them(world, people, as_user, who):
    client = as_user(people[who])
    wrong = {}
    for label in REGISTERED:
        allowed = reads_list(who, label)
        status = client.get(admin_url(label, "changelist")).status_code
        if status != (200 if allowed else 403):
            wrong[label] = status
    assert wrong == {}


@pytest.mark.parametrize("who", ROLES)
def test_add_forms_exist_only_for_registering_initiatives_and_new_policy_versions(
    world, people, as_user, who
):
    client = as_user(people[who])
    wrong = {}
    for label in REGISTERED:
        allowed = (label, who) in {
            ("projects.initiative", "lead"),
            ("projects.initiative", "other_lead"),
            ("governance.gatepolicy", "govadmin"),
            ("governance.gatepolicy", "superuser"),  # a superuser holds the governance admin's grants
            ("governance.gatepolicy", "chair"),
        } or (label == "governance.notificationpreference" and who != "nobody")
        status = client.get(admin_url(label, "add")).status_code
        if status != (200 if allowed else 403):
            wrong[label] = status
        if not allowed:
            before = Initiative.objects.count(), GatePolicy.objects.count(), LedgerEvent.objects.count()
            status = client.post(admin_url(label, "add"), {"title": "Forged", "gate": "pilot"}).status_code
            after = Initiative.objects.count(), GatePolicy.objects.count(), LedgerEvent.objects.count()
            if status != 403 or after != before:
                wrong[f"POST {label}"] = status
    assert wrong == {}


@pytest.mark.parametrize("who", ROLES)
def test_no_role_edits_deletes_or_saves_as_new_any_stored_row(world, people, as_user, who):
    client = as_user(people[who])
    events = LedgerEvent.objects.count()
    wrong = {}
    for label in REGISTERED:
        if (label, who) == ("governance.gatepolicy", "chair") or (
            label in ("governance.gatepolicy", MEMBERSHIP) and who in ("govadmin", "superuser")
        ):
            continue  # a policy's save creates a new version, a person's changes roles: tested elsewhere
        if label == "governance.notificationpreference":
            continue  # a person removes their own choices: tests/background/test_notification_admin.py
        pk = any_pk(label)
        statuses = (
            client.post(admin_url(label, "change", pk), {"title": "Edited"}).status_code,
            client.post(admin_url(label, "change", pk), {"title": "Copy", "_saveasnew": "Save"}).status_code,
            client.post(admin_url(label, "delete", pk), {"post": "yes"}).status_code,
            client.get(admin_url(label, "delete", pk)).status_code,
        )
        if statuses != (403, 403, 403, 403):
            wrong[label] = statuses
    assert wrong == {}
    assert LedgerEvent.objects.count() == events


def test_every_initiative_page_is_read_only_and_offers_no_stage_field(world, people, as_user):
    for who in ("lead", "chair", "superuser"):
        html = (
            as_user(people[who])
            .get(admin_url("projects.initiative", "change", world["draft"].pk))
            .content.decode()
        )
        for field in ('name="stage"', 'name="_save"', 'name="_saveasnew"', 'name="_continue"'):
            assert field not in html


def test_forged_inline_rows_are_refused_and_nothing_is_added(world, people, as_user):
    review = world["review"]
    forged_signoff = {
        "signoffs-TOTAL_FORMS": "1",
        "signoffs-INITIAL_FORMS": "0",
        "signoffs-MIN_NUM_FORMS": "0",
        "signoffs-MAX_NUM_FORMS": "1000",
        "signoffs-0-function": "1",
        "signoffs-0-reviewer": str(people["business"].pk),
        "signoffs-0-decision": "approve",
        "signoffs-0-rationale": "Forged",
        "signoffs-0-digest": "0" * 64,
    }
    forged_kpi = {
        "kpis-TOTAL_FORMS": "1",
        "kpis-INITIAL_FORMS": "0",
        "kpis-0-name": "Forged KPI",
        "kpis-0-unit": "%",
        "kpis-0-direction": "increase",
        "kpis-0-baseline": "1",
        "kpis-0-target": "2",
        "kpis-0-data_source": "x",
    }
    for who in ("business", "chair", "lead", "superuser"):
        client = as_user(people[who])
        url = admin_url("governance.gatereview", "change", review.pk)
        assert client.post(url, forged_signoff).status_code == 403
        url = admin_url("projects.initiative", "change", world["draft"].pk)
        assert client.post(url, forged_kpi).status_code == 403
        add_url = admin_url("projects.initiative", "add")
        client.post(
            add_url,
            {
                "title": "With forged rows",
                "department": "d",
                "pain_point": "p",
                "process_embedding": "e",
                "risk_tier": "limited",
                **forged_kpi,
            },
        )
    assert not SignOff.objects.exists()
    assert not KPI.objects.filter(name="Forged KPI").exists()


def test_the_add_form_registers_a_draft_owned_by_the_lead_whatever_else_is_posted(people, as_user):
    response = as_user(people["lead"]).post(
        admin_url("projects.initiative", "add"),
        {
            "title": "Invoice matching",
            "department": "Finance",
            "pain_point": "Manual matching",
            "process_embedding": "ERP screen",
            "risk_tier": "limited",
            "stage": "scale",
            "owner": str(people["other_lead"].pk),
            "stage_entered_at": "2020-01-01 00:00",
        },
    )
    initiative = Initiative.objects.get(title="Invoice matching")
    assert response.status_code == 302 and response.url.endswith(f"/{initiative.pk}/change/")
    assert (initiative.stage, initiative.owner) == (Stage.DRAFT, people["lead"])
    assert LedgerEvent.objects.get(initiative=initiative).action == "initiative.created"


def test_governance_admins_save_policies_as_new_versions_even_when_saving_as_new(people, as_user):
    client = as_user(people["govadmin"])
    old = GatePolicy.objects.get(gate="pilot", version=1)
    page = client.get(admin_url("governance.gatepolicy", "change", old.pk))
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None and v != []}
    data.update(
        required_functions=["business", "legal", "finance", "technical"],
        required_evidence=["business_case"],
        personal_data_evidence=["privacy_impact"],
        max_pilot_days="90",
    )
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(admin_url("governance.gatepolicy", "change", old.pk), data)
    assert response.status_code == 302
    assert list(GatePolicy.objects.filter(gate="pilot").values_list("version", "max_pilot_days")) == [
        (2, 90),
        (1, 180),
    ]
    old.refresh_from_db()
    assert old.max_pilot_days == 180
    response = client.post(
        admin_url("governance.gatepolicy", "change", old.pk), {**data, "gate": "pilot", "_saveasnew": "1"}
    )
    assert response.status_code == 302
    assert GatePolicy.objects.filter(gate="pilot").count() == 3
    assert LedgerEvent.objects.filter(action="policy.version_created").count() == 2
    bad = {**data, "required_functions": []}
    response = client.post(admin_url("governance.gatepolicy", "change", old.pk), bad)
    assert response.status_code == 200 and GatePolicy.objects.filter(gate="pilot").count() == 3


@pytest.mark.parametrize("who", ["auditor", "lead", "business"])
def test_other_roles_read_policies_without_a_save_button(people, as_user, who):
    old = GatePolicy.objects.get(gate="pilot", version=1)
    page = as_user(people[who]).get(admin_url("governance.gatepolicy", "change", old.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


# A lead's lists hold their own initiatives only -----------------------------------------------


@pytest.mark.parametrize(
    "label", ["projects.initiative", "projects.evidence", "governance.gatereview", "projects.kpimeasurement"]
)
def test_a_lead_never_sees_another_lead_s_initiative(world, people, as_user, label):
    factories.MeasurementFactory(kpi=factories.KPIFactory(initiative=world["other"], name="Their KPI"))
    html = as_user(people["lead"]).get(admin_url(label, "changelist")).content.decode()
    assert "Someone else" not in html and "Their KPI" not in html
    other = as_user(people["other_lead"]).get(admin_url("projects.initiative", "changelist")).content.decode()
    assert "Someone else" in other


def test_another_lead_s_pages_are_hidden(world, people, as_user):
    client = as_user(people["lead"])
    other = world["other"]
    assert client.get(admin_url("projects.initiative", "change", other.pk)).status_code == 404
    evidence = Evidence.objects.get(initiative=other)
    assert (
        client.get(admin_url("projects.evidence", "change", evidence.pk)).status_code == 302
    )  # "does not exist"
    assert client.get(reverse("evidence-download", args=[evidence.pk])).status_code == 404
    for name in ("describe", "business_case", "kpi", "measurements", "evidence", "request_review"):
        assert client.get(admin_url("projects.initiative", name, other.pk)).status_code == 404
    assert client.post(admin_url("projects.initiative", "submit", other.pk)).status_code == 404
    other.refresh_from_db()
    assert other.stage == Stage.DRAFT


# The workspace's own pages and buttons --------------------------------------------------------


def page_status(client, world, name: str, method: str = "get") -> int:
    pages = {
        "describe": ("projects.initiative", "describe", "draft"),
        "business_case": ("projects.initiative", "business_case", "draft"),
        "kpi": ("projects.initiative", "kpi", "draft"),
        "measurements": ("projects.initiative", "measurements", "pilot"),
        "experiment": ("projects.initiative", "experiment", "pilot"),
        "experiment_look": ("projects.initiative", "experiment_look", "pilot"),
        "money": ("projects.initiative", "money", "pilot"),
        "evidence": ("projects.initiative", "evidence", "pilot"),
        "submit": ("projects.initiative", "submit", "draft"),
        "request_review": ("projects.initiative", "request_review", "pilot"),
        "sign": ("governance.gatereview", "sign", "review"),
        "hold": ("governance.gatereview", "hold", "review"),
        "kill": ("governance.gatereview", "kill", "review"),
        "advance": ("governance.gatereview", "advance", "review"),
    }
    label, view, key = pages[name]
    url = admin_url(label, view, world[key].pk)
    return getattr(client, method)(url).status_code


LEAD_PAGES = [
    "describe",
    "business_case",
    "kpi",
    "measurements",
    "experiment",
    "experiment_look",
    "money",
    "evidence",
]


@pytest.mark.parametrize("who", ROLES)
def test_a_lead_s_forms_open_for_that_lead_only(world, people, as_user, who):
    expected = {"lead": 200, "other_lead": 404}.get(who, 403)
    statuses = {name: page_status(as_user(people[who]), world, name) for name in LEAD_PAGES}
    assert statuses == dict.fromkeys(LEAD_PAGES, expected)


@pytest.mark.parametrize("who", ["chair", "auditor", "business", "superuser", "other_lead", "nobody"])
def test_direct_posts_to_a_lead_s_forms_change_nothing(world, people, as_user, who):
    events = LedgerEvent.objects.count()
    statuses = {name: page_status(as_user(people[who]), world, name, "post") for name in LEAD_PAGES}
    assert set(statuses.values()) <= {403, 404}, statuses
    assert LedgerEvent.objects.count() == events


@pytest.mark.parametrize("who", ROLES)
def test_submitting_a_draft_is_the_lead_s_alone(world, people, as_user, who):
    status = page_status(as_user(people[who]), world, "submit", "post")
    world["draft"].refresh_from_db()
    if who == "lead":
        assert status == 302 and world["draft"].stage == Stage.PROPOSAL
    else:
        assert status in (403, 404) and world["draft"].stage == Stage.DRAFT
    assert page_status(as_user(people[who]), world, "submit", "get") in (403, 404, 405)


@pytest.mark.parametrize("who", ROLES)
def test_a_gate_review_is_requested_by_the_lead_or_the_chair(world, people, as_user, who):
    status = page_status(as_user(people[who]), world, "request_review")
    expected = {"lead": 200, "chair": 200, "other_lead": 404}.get(who, 403)
    assert status == expected


@pytest.mark.parametrize("who", ROLES)
def test_the_sign_off_page_is_for_the_functions_the_review_asks(world, people, as_user, who):
    # The proposal's review (limited risk) asks business, legal, finance and technical.
    status = page_status(as_user(people[who]), world, "sign")
    expected = 200 if who in ("business", "legal") else (404 if who == "other_lead" else 403)
    assert status == expected
    if expected != 200:
        client = as_user(people[who])
        url = admin_url("governance.gatereview", "sign", world["review"].pk)
        client.post(
            url,
            {
                "function": "business",
                "decision": "approve",
                "rationale": "Forged",
                "conditions-TOTAL_FORMS": "0",
                "conditions-INITIAL_FORMS": "0",
            },
        )
        assert not SignOff.objects.exists()


@pytest.mark.parametrize("name", ["hold", "kill"])
@pytest.mark.parametrize("who", ROLES)
def test_hold_and_kill_are_the_chair_s(world, people, as_user, name, who):
    client = as_user(people[who])
    expected = 200 if who == "chair" else (404 if who == "other_lead" else 403)
    assert page_status(client, world, name) == expected
    if who != "chair":
        url = admin_url("governance.gatereview", name, world["review"].pk)
        assert client.post(url, {"reason": "Forged", "revisit_on": "2099-01-01"}).status_code in (403, 404)
        world["review"].refresh_from_db()
        assert world["review"].is_open


@pytest.mark.parametrize("who", ROLES)
def test_advance_is_for_the_chair_and_the_initiative_s_lead(world, people, as_user, who):
    status = page_status(as_user(people[who]), world, "advance", "post")
    expected = 302 if who in ("chair", "lead") else (404 if who == "other_lead" else 403)
    assert status == expected
    world["review"].refresh_from_db()
    assert world["review"].is_open  # the gate lacks its sign-offs: the service refused


@pytest.mark.parametrize("who", ROLES)
def test_the_queue_is_for_committee_members(world, people, as_user, who):
    status = as_user(people[who]).get(reverse("admin:governance_gatereview_queue")).status_code
    assert status == (200 if who in {"business", "legal", "risk_ethics"} else 403)


@pytest.mark.parametrize("who", ROLES)
def test_the_dashboard_is_for_everyone_who_reads_initiatives(world, people, as_user, who):
    status = as_user(people[who]).get(reverse("admin:projects_initiative_dashboard")).status_code
    assert status == (403 if who == "nobody" else 200)


def test_a_lead_s_dashboard_counts_only_their_initiatives(world, people, as_user):
    data = as_user(people["lead"]).get(reverse("admin:projects_initiative_dashboard")).context["data"]
    assert data.totals["initiatives"] == 3
    data = as_user(people["auditor"]).get(reverse("admin:projects_initiative_dashboard")).context["data"]
    assert data.totals["initiatives"] == 4


@pytest.mark.parametrize("who", ROLES)
def test_closing_a_condition_is_for_its_owner_and_the_chair(world, people, as_user, who):
    signoff = SignOff.objects.create(
        review=world["review"],
        function_id=1,
        reviewer=people["business"],
        decision="approve_with_conditions",
        rationale="ok",
        digest="0" * 64,
    )
    condition = Condition.objects.create(
        signoff=signoff,
        initiative=world["proposal"],
        text="Add a rollback plan",
        owner=people["lead"],
        due_on="2099-01-01",
    )
    client = as_user(people[who])
    url = admin_url("governance.condition", "close", condition.pk)
    expected = 200 if who in ("lead", "chair") else (404 if who == "other_lead" else 403)
    assert client.get(url).status_code == expected
    response = client.post(url, {"note": "Rollback plan attached."})
    condition.refresh_from_db()
    if who in ("lead", "chair"):
        assert response.status_code == 302 and condition.closed_at is not None
    else:
        assert response.status_code in (403, 404) and condition.closed_at is None


def test_the_initiative_page_offers_each_role_only_its_own_buttons(world, people, as_user):
    def buttons(who, key):
        page = as_user(people[who]).get(admin_url("projects.initiative", "change", world[key].pk))
        return {a["label"] for a in page.context["actions"]}

    assert buttons("lead", "draft") == {
        "Edit description",
        "Business case",
        "Add a KPI",
        "Record measurements",
        "Measure a KPI from its source",
        "Record an A/B experiment",
        "Register an experiment plan",
        "Record a cost or benefit",
        "Upload evidence",
        "Submit to the committee",
    }
    assert buttons("lead", "proposal") >= {"Upload evidence", "Advance now"}
    assert "Sign off" not in buttons("lead", "proposal")
    assert buttons("business", "proposal") == {"Sign off"}
    assert buttons("chair", "proposal") == {"Advance now", "Hold", "Kill"}
    assert buttons("chair", "pilot") == {"Request a gate review"}
    assert buttons("auditor", "proposal") == set()
    assert buttons("auditor", "draft") == set()
    assert buttons("govadmin", "proposal") == set()
    assert buttons("superuser", "proposal") == set()


# Admin actions --------------------------------------------------------------------------------


def actions_offered(client, label):
    response = client.get(admin_url(label, "changelist"))
    form = response.context.get("action_form")
    return set() if form is None else {c for c, _ in form.fields["action"].choices if c}


@pytest.mark.parametrize("who", ROLES)
def test_each_role_is_offered_only_its_actions(world, people, as_user, who):
    client = as_user(people[who])
    if who == "nobody":
        return
    initiative_actions = {
        "lead": {"submit_selected", "request_review_selected"},
        "other_lead": {"submit_selected", "request_review_selected"},
        "chair": {"request_review_selected"},
    }.get(who, set())
    assert actions_offered(client, "projects.initiative") == initiative_actions
    assert actions_offered(client, "governance.gatereview") == (
        {"advance_selected"} if who in ("chair", "lead", "other_lead") else set()
    )
    # Everyone marks their own notifications read and removes their own channel choices; the chair
    # and the operators retry dead deliveries.
    assert actions_offered(client, "governance.notification") == {"mark_read"}
    assert actions_offered(client, "governance.notificationpreference") == {"delete_selected"}
    if who in SEES_DELIVERIES:
        assert actions_offered(client, DELIVERIES) == {"retry_selected"}
    acting = ("projects.initiative", "governance.gatereview", DELIVERIES, *OWN_NOTIFICATIONS)
    for label in REGISTERED:
        if label not in acting and reads_list(who, label):
            assert actions_offered(client, label) == set(), label


@pytest.mark.parametrize("who", ["auditor", "business", "govadmin", "superuser"])
def test_a_forged_action_post_changes_nothing(world, people, as_user, who):
    client = as_user(people[who])
    response = client.post(
        admin_url("projects.initiative", "changelist"),
        {"action": "submit_selected", "_selected_action": [world["draft"].pk], "index": "0"},
    )
    assert response.status_code in (200, 302, 403)
    response = client.post(
        admin_url("governance.gatereview", "changelist"),
        {"action": "advance_selected", "_selected_action": [world["review"].pk], "index": "0"},
    )
    world["draft"].refresh_from_db()
    world["review"].refresh_from_db()
    assert world["draft"].stage == Stage.DRAFT and world["review"].is_open


def test_a_lead_s_action_on_another_lead_s_draft_does_nothing_to_it(world, people, as_user):
    client = as_user(people["lead"])
    client.post(
        admin_url("projects.initiative", "changelist"),
        {
            "action": "submit_selected",
            "_selected_action": [world["other"].pk, world["draft"].pk],
            "index": "0",
        },
    )
    world["other"].refresh_from_db()
    world["draft"].refresh_from_db()
    assert world["other"].stage == Stage.DRAFT
    assert world["draft"].stage == Stage.PROPOSAL


def test_every_custom_admin_action_declares_its_permissions():
    ours = [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if type(model_admin).__module__.startswith(("governance.", "projects."))
    ]
    assert len(ours) >= 13
    for model, model_admin in ours:
        for action in model_admin.actions or ():
            function = getattr(model_admin, action) if isinstance(action, str) else action
            if getattr(function, "__name__", "") == "delete_selected":
                continue
            permissions = getattr(function, "allowed_permissions", None)
            assert permissions, f"{model.__name__}: action {action} declares no permissions"
            for permission in permissions:
                assert hasattr(model_admin, f"has_{permission}_permission"), (model, action, permission)


def test_gate_reviews_keep_their_history_when_nobody_may_delete(world, people, as_user):
    assert GateReview.objects.count() == 1
    client = as_user(people["superuser"])
    client.post(
        admin_url("governance.gatereview", "changelist"),
        {"action": "delete_selected", "_selected_action": [world["review"].pk], "post": "yes"},
    )
    assert GateReview.objects.count() == 1
