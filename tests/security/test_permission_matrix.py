"""The permission matrix walked through every entry point.

For every operation of governance/access/matrix.py MATRIX, every way in — an admin page, an API
endpoint, a management command, a background task — is tried by every kind of person, and what
happened is compared with what the matrix declares for that person's roles and the target's
owner. A state change is judged by the ledger (every one appends an event); a read by the
response. Each try is rolled back, so every person meets the same world.

The expectation is computed here from MATRIX and the roles each person is given in ROSTER, not by
asking governance.access.matrix, so a slip in the code that reads the matrix shows up as a cell that
differs. A further test checks that every API endpoint and every admin page that acts is walked.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from governance.access import roles
from governance.access.matrix import MATRIX, Operation, Role, Scope
from governance.access.models import CommitteeFunction
from governance.api.tokens import token_issue
from governance.errors import NotAllowed
from governance.ledger.checkpoints import ledger_checkpoint
from governance.ledger.models import LedgerEvent
from governance.notifications.models import DeliveryState, Notification, NotificationDelivery
from governance.reviews.facts import current_policy, initiative_with_gate_data, signoff_digest
from governance.reviews.models import Condition, GateReview, SignOff
from governance.reviews.services import review_open
from governance.reviews.signoffs import signoff_record
from governance.tasks import escalate_perpetual_pilots, open_value_reviews
from projects.models import Initiative, KPISource
from projects.vocabulary import Outcome, ReviewStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_kpi_connector(settings, tmp_path):
    """A connector to register KPI sources with (the page is offered only when one is configured)."""
    settings.VALUEGATE_KPI_CONNECTORS = {"warehouse": {"kind": "csv", "directory": str(tmp_path)}}


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class Person:
    groups: tuple[str, ...] = ()
    roles: frozenset[Role] = frozenset()
    functions: frozenset[str] = frozenset()
    superuser: bool = False
    active: bool = True


FUNCTIONS = tuple(roles.FUNCTION_GROUPS)
ROSTER: dict[str, Person] = {
    "lead": Person((roles.PROJECT_LEADS,), frozenset({Role.PROJECT_LEAD})),
    "other_lead": Person((roles.PROJECT_LEADS,), frozenset({Role.PROJECT_LEAD})),
    **{
        code: Person(
            (roles.FUNCTION_GROUPS[code],), frozenset({Role.COMMITTEE_MEMBER}), functions=frozenset({code})
        )
        for code in FUNCTIONS
    },
    "chair": Person((roles.COMMITTEE_CHAIR,), frozenset({Role.CHAIR})),
    "auditor": Person((roles.AUDITORS,), frozenset({Role.AUDITOR})),
    "govadmin": Person((roles.GOVERNANCE_ADMINS,), frozenset({Role.GOVERNANCE_ADMIN})),
    # An operator: the governance admin's and the auditor's grants, nobody's signature.
    "superuser": Person((), frozenset({Role.GOVERNANCE_ADMIN, Role.AUDITOR}), superuser=True),
    "nobody": Person(),  # a staff account with no role
    "former_lead": Person((roles.PROJECT_LEADS,), active=False),  # deactivated: no role at all
}
SELF = "self"  # the target belongs to whoever acts (their own API token)


def expected(person_key: str, operation: Operation, *, owner: str | None, function: str | None) -> bool:
    """What MATRIX declares for this person on a target owned by `owner` (for `function`)."""
    person = ROSTER[person_key]
    for role in person.roles:
        granted = MATRIX[operation].get(role)
        if granted == Scope.ANY:
            return True
        if granted == Scope.OWN and owner in (None, SELF, person_key):
            return True
        if granted == Scope.OWN_FUNCTION and (function in person.functions if function else person.functions):
            return True
    return False


# The world ---------------------------------------------------------------------------------------


@dataclass
class World:
    people: dict
    draft: Initiative
    proposal: Initiative
    pilot: Initiative
    review: GateReview
    ready: GateReview
    conditions: dict
    token_of_lead: object
    candidate: object
    scratch: Path | None = None  # where a command may write (an export)


def build_world() -> World:
    people = {
        key: factories.user_in(
            *person.groups,
            username=key.replace("_", "-"),
            is_staff=True,
            is_superuser=person.superuser,
            is_active=person.active,
        )
        for key, person in ROSTER.items()
    }
    lead = people["lead"]
    draft = factories.InitiativeFactory(owner=lead, title="A draft")
    factories.BusinessCaseFactory(initiative=draft)
    factories.KPIFactory(initiative=draft, name="Draft KPI")
    proposal = factories.proposal_ready_for_pilot_gate(owner=lead, title="A proposal")
    # High risk: the scale gate asks risk & ethics too, so every function has a sign-off to give.
    pilot = factories.pilot_ready_for_scale_gate(owner=lead, title="A pilot", risk_tier="high")
    review = review_open(actor=lead, initiative=pilot)

    # A pilot whose scale review has every approval but waits for conditions of its pilot gate:
    # once they are closed and the approvals given again, the chair or the lead may advance it.
    ready_pilot = factories.pilot_ready_for_scale_gate(owner=lead, title="A pilot with conditions")
    earlier = GateReview.objects.create(
        initiative=ready_pilot,
        gate="pilot",
        policy=current_policy("pilot"),
        status=ReviewStatus.DECIDED,
        outcome=Outcome.CONDITIONAL_GO,
        decided_at=timezone.now() - dt.timedelta(days=100),
    )
    approval = SignOff.objects.create(
        review=earlier,
        function=CommitteeFunction.objects.get(code="legal"),
        reviewer=people["legal"],
        decision="approve_with_conditions",
        rationale="With conditions.",
        digest="0" * 64,
    )
    due = timezone.now().date() + dt.timedelta(days=30)
    conditions = {
        owner: Condition.objects.create(
            signoff=approval,
            initiative=ready_pilot,
            text=f"Condition for {owner}",
            owner=people[owner],
            due_on=due,
        )
        for owner in ("lead", "legal")
    }
    ready = review_open(actor=lead, initiative=ready_pilot)
    for code in ("business", "legal", "finance", "technical"):
        signoff_record(actor=people[code], review=ready, function=code, decision="approve", rationale="Fine.")
    ready.refresh_from_db()
    assert ready.is_open, "the open conditions hold the review"

    token_of_lead, _ = token_issue(actor=lead, name="Lead's laptop")
    candidate = factories.UserFactory(username="candidate", is_staff=True)
    return World(
        people=people,
        draft=draft,
        proposal=proposal,
        pilot=pilot,
        review=review,
        ready=ready,
        conditions=conditions,
        token_of_lead=token_of_lead,
        candidate=candidate,
    )


# Entry points ------------------------------------------------------------------------------------

WRITE, READ = "write", "read"


@dataclass(frozen=True)
class EntryPoint:
    operation: Operation
    via: str  # "admin", "api", "command"
    name: str  # the URL name or command it goes through
    kind: str  # WRITE: judged by the ledger; READ: by the response
    run: Callable[[World, object], object]
    owner: str | None = "lead"  # whose target it is (None: no single target)
    function: str | None = None
    prepare: Callable[[World], None] | None = None
    action: str | None = None  # the admin action a changelist POST runs
    lists: Callable[[World, object], bool] | None = None  # a list read: is the target in it?

    def __str__(self) -> str:
        detail = self.action or self.function or (self.owner if self.owner not in (None, "lead") else "")
        return f"{self.via} {self.name}{f' ({detail})' if detail else ''}: {self.operation.name}"


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def admin(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def api(name: str, *args) -> str:
    return reverse(f"api:{name}", args=args)


def admin_post(name: str, target: Callable[[World], tuple], data: Callable[[World], dict]):
    return lambda w, user: admin_client(user).post(admin(name, *target(w)), data(w))


def admin_action(name: str, action: str, selected: Callable[[World], int]):
    return admin_post(
        name, lambda w: (), lambda w: {"action": action, "_selected_action": [str(selected(w))]}
    )


def admin_get(name: str, target: Callable[[World], tuple] = lambda w: ()):
    return lambda w, user: admin_client(user).get(admin(name, *target(w)))


def api_call(method: str, name: str, target: Callable[[World], tuple], data=None, *, fmt: str = "json"):
    def run(w, user):
        client = getattr(api_client(user), method)
        if data is None:
            return client(api(name, *target(w)))
        return client(api(name, *target(w)), data(w), format=fmt)

    return run


def command(name: str, *args: Callable[[World, object], str]):
    def run(w, user):
        try:
            call_command(name, *(a(w, user) for a in args), stdout=io.StringIO(), stderr=io.StringIO())
        except CommandError as error:
            return error
        return None

    return run


def pilot(w):
    return (w.pilot.pk,)


def draft(w):
    return (w.draft.pk,)


def kpi_of_pilot(w) -> int:
    return w.pilot.kpis.get().pk


MEASUREMENT_ROWS = {"rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0"}
NO_CONDITIONS = {"conditions-TOTAL_FORMS": "0", "conditions-INITIAL_FORMS": "0"}
DESCRIPTION = {
    "title": "Renamed",
    "department": "Customer service",
    "pain_point": "Customers wait.",
    "process_embedding": "In the ticketing tool.",
    "risk_tier": "limited",
}
EXPERIMENT = {
    "name": "Variant B",
    "metric": "proportion",
    "success_definition": "converted",
    "control_size": "1000",
    "control_successes": "100",
    "treatment_size": "1000",
    "treatment_successes": "130",
}
POLICY = {
    "gate": "scale",
    "required_functions": ["business", "legal", "finance", "technical"],
    "required_evidence": ["pilot_report"],
    "risk_ethics_for_high_risk": "on",
    "requires_business_case": "on",
    "requires_primary_kpi": "on",
    "min_measurements": "4",
    "requires_targets_met": "on",
    "requires_significant_experiments": "on",
    "significance_level": "0.050",
    "requires_positive_roi": "on",
    "requires_conditions_closed": "on",
    "signoff_validity_days": "90",
    "reminder_days": "3",
    "escalation_days": "7",
    "max_pilot_days": "180",
    "experiment_method": "always_valid",
    "required_power": "0.80",
}


def sign(function: str):
    return {"function": function, "decision": "approve", "rationale": "Evidence reviewed."}


def close_the_conditions(w: World) -> None:
    """The conditions closed and the committee's approvals given again on what it now sees, written
    as rows that were there (a last approval through the service would advance it by itself)."""
    Condition.objects.filter(initiative=w.ready.initiative).update(closed_at=timezone.now())
    digest = signoff_digest(initiative_with_gate_data(w.ready.initiative_id), w.ready)
    SignOff.objects.filter(review=w.ready, superseded_at__isnull=True).update(digest=digest)


def past_its_deadline(w: World) -> None:
    Initiative.objects.filter(pk=w.pilot.pk).update(
        pilot_deadline=timezone.now().date() - dt.timedelta(days=1)
    )
    GateReview.objects.filter(pk=w.review.pk).update(status=ReviewStatus.DECIDED, outcome=Outcome.HOLD)


Op = Operation
# The pilot's plan changed after its data arrived: allowed to its lead, with a reason.
CHANGED_PLAN = {
    "minimum_effect": "1.5",
    "treatment_share": "0.5",
    "planned_looks": 6,
    "traffic_per_month": 10000,
    "reason": "The effect that pays was revised.",
}

ENTRY_POINTS: list[EntryPoint] = [
    # Seeing an initiative ------------------------------------------------------------------------
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "admin",
        "projects_initiative_change",
        READ,
        admin_get("projects_initiative_change", pilot),
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "admin",
        "projects_initiative_changelist",
        READ,
        admin_get("projects_initiative_changelist"),
        lists=lambda w, response: w.pilot in response.context["cl"].result_list,
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "admin",
        "projects_initiative_dashboard",
        READ,
        admin_get("projects_initiative_dashboard"),
        owner=None,
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "admin",
        "governance_gatereview_change",
        READ,
        admin_get("governance_gatereview_change", lambda w: (w.review.pk,)),
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "api",
        "initiatives",
        READ,
        api_call("get", "initiatives", lambda w: ()),
        lists=lambda w, response: any(item["id"] == w.pilot.pk for item in response.json()["results"]),
    ),
    EntryPoint(Op.VIEW_INITIATIVE, "api", "initiative", READ, api_call("get", "initiative", pilot)),
    EntryPoint(Op.VIEW_INITIATIVE, "api", "business-case", READ, api_call("get", "business-case", pilot)),
    EntryPoint(Op.VIEW_INITIATIVE, "api", "kpis", READ, api_call("get", "kpis", pilot)),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "api",
        "measurements",
        READ,
        api_call("get", "measurements", lambda w: (w.pilot.pk, kpi_of_pilot(w))),
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "api",
        "experiments",
        READ,
        api_call("get", "experiments", lambda w: (w.pilot.pk, kpi_of_pilot(w))),
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "api",
        "experiment-looks",
        READ,
        api_call(
            "get",
            "experiment-looks",
            lambda w: (w.pilot.pk, kpi_of_pilot(w), w.pilot.kpis.get().experiments.get().pk),
        ),
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE, "api", "financial-entries", READ, api_call("get", "financial-entries", pilot)
    ),
    EntryPoint(Op.VIEW_INITIATIVE, "api", "evidence", READ, api_call("get", "evidence", pilot)),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "api",
        "experiment-plan",
        READ,
        api_call("get", "experiment-plan", lambda w: (w.pilot.pk, kpi_of_pilot(w))),
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "api",
        "kpi-source",
        READ,
        api_call("get", "kpi-source", lambda w: (w.pilot.pk, kpi_of_pilot(w))),
        prepare=lambda w: KPISource.objects.create(
            kpi_id=kpi_of_pilot(w), connector="warehouse", query="kpi.csv", registered_by=w.pilot.owner
        ),
    ),
    EntryPoint(Op.VIEW_INITIATIVE, "api", "checklist", READ, api_call("get", "checklist", pilot)),
    EntryPoint(
        Op.VIEW_INITIATIVE, "api", "initiative-reviews", READ, api_call("get", "initiative-reviews", pilot)
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE, "api", "review", READ, api_call("get", "review", lambda w: (w.review.pk,))
    ),
    EntryPoint(
        Op.VIEW_ESCALATIONS,
        "admin",
        "governance_pilotescalation_changelist",
        READ,
        admin_get("governance_pilotescalation_changelist"),
        owner=None,
    ),
    EntryPoint(
        Op.OWN_NOTIFICATIONS,
        "admin",
        "governance_notification_changelist",
        READ,
        admin_get("governance_notification_changelist"),
        owner=SELF,
    ),
    # A project lead's work -----------------------------------------------------------------------
    EntryPoint(
        Op.REGISTER_INITIATIVE,
        "admin",
        "projects_initiative_add",
        WRITE,
        admin_post("projects_initiative_add", lambda w: (), lambda w: {**DESCRIPTION, "title": "New idea"}),
        owner=None,
    ),
    EntryPoint(
        Op.REGISTER_INITIATIVE,
        "api",
        "initiatives",
        WRITE,
        api_call("post", "initiatives", lambda w: (), lambda w: {"title": "New idea", "department": "Sales"}),
        owner=None,
    ),
    EntryPoint(
        Op.EDIT_DRAFT,
        "admin",
        "projects_initiative_describe",
        WRITE,
        admin_post("projects_initiative_describe", draft, lambda w: DESCRIPTION),
    ),
    EntryPoint(
        Op.EDIT_DRAFT,
        "admin",
        "projects_initiative_business_case",
        WRITE,
        admin_post(
            "projects_initiative_business_case",
            draft,
            lambda w: {
                "budget": "1000",
                "expected_annual_benefit": "5000",
                "horizon_months": "12",
                "exit_criteria": "Stop if slow.",
                "missed_periods_to_retire": "3",
            },
        ),
    ),
    EntryPoint(
        Op.EDIT_DRAFT,
        "admin",
        "projects_initiative_kpi",
        WRITE,
        admin_post(
            "projects_initiative_kpi",
            draft,
            lambda w: {
                "name": "NPS",
                "unit": "points",
                "direction": "increase",
                "baseline": "20",
                "target": "30",
                "data_source": "Survey",
            },
        ),
    ),
    EntryPoint(
        Op.EDIT_DRAFT,
        "api",
        "initiative",
        WRITE,
        api_call("patch", "initiative", draft, lambda w: {"title": "Renamed"}),
    ),
    EntryPoint(
        Op.EDIT_DRAFT,
        "api",
        "business-case",
        WRITE,
        api_call(
            "put",
            "business-case",
            draft,
            lambda w: {"budget": "1000", "expected_annual_benefit": "5000", "exit_criteria": "Stop if slow."},
        ),
    ),
    EntryPoint(
        Op.EDIT_DRAFT,
        "api",
        "kpis",
        WRITE,
        api_call(
            "post",
            "kpis",
            draft,
            lambda w: {
                "name": "NPS",
                "unit": "points",
                "direction": "increase",
                "baseline": "20",
                "target": "30",
                "data_source": "Survey",
            },
        ),
    ),
    EntryPoint(
        Op.SUBMIT_INITIATIVE,
        "admin",
        "projects_initiative_submit",
        WRITE,
        admin_post("projects_initiative_submit", draft, lambda w: {}),
    ),
    EntryPoint(
        Op.SUBMIT_INITIATIVE,
        "api",
        "initiative-submit",
        WRITE,
        api_call("post", "initiative-submit", draft, lambda w: {}),
    ),
    EntryPoint(
        Op.SUBMIT_INITIATIVE,
        "admin",
        "projects_initiative_changelist",
        WRITE,
        admin_action("projects_initiative_changelist", "submit_selected", lambda w: w.draft.pk),
        action="submit_selected",
    ),
    EntryPoint(
        Op.RECORD_MEASUREMENTS,
        "admin",
        "projects_initiative_measurements",
        WRITE,
        admin_post(
            "projects_initiative_measurements",
            pilot,
            lambda w: {
                **MEASUREMENT_ROWS,
                "kpi": str(kpi_of_pilot(w)),
                "rows-0-period": "2020-01",
                "rows-0-value": "14.5",
                "rows-0-source": "BI",
            },
        ),
    ),
    EntryPoint(
        Op.RECORD_MEASUREMENTS,
        "api",
        "measurements",
        WRITE,
        api_call(
            "post",
            "measurements",
            lambda w: (w.pilot.pk, kpi_of_pilot(w)),
            lambda w: {"measurements": [{"period": "2020-01-01", "value": "11.5", "source": "BI"}]},
        ),
    ),
    EntryPoint(
        Op.RECORD_EXPERIMENT,
        "admin",
        "projects_initiative_experiment",
        WRITE,
        admin_post(
            "projects_initiative_experiment", pilot, lambda w: {**EXPERIMENT, "kpi": str(kpi_of_pilot(w))}
        ),
    ),
    EntryPoint(
        Op.RECORD_EXPERIMENT,
        "admin",
        "projects_initiative_experiment_look",
        WRITE,
        admin_post(
            "projects_initiative_experiment_look",
            pilot,
            lambda w: {
                "experiment": str(w.pilot.kpis.get().experiments.get().pk),
                "looked_on": f"{timezone.now().date():%Y-%m-%d}",
                "control_size": "9000",
                "control_successes": "900",
                "treatment_size": "9000",
                "treatment_successes": "1170",
            },
        ),
    ),
    EntryPoint(
        Op.RECORD_MEASUREMENTS,
        "admin",
        "projects_initiative_kpi_source",
        WRITE,
        admin_post(
            "projects_initiative_kpi_source",
            pilot,
            lambda w: {
                "kpi": str(kpi_of_pilot(w)),
                "connector": "warehouse",
                "query": "kpi.csv",
                "active": "on",
            },
        ),
    ),
    EntryPoint(
        Op.RECORD_EXPERIMENT,
        "admin",
        "projects_initiative_experiment_plan",
        WRITE,
        admin_post(
            "projects_initiative_experiment_plan",
            pilot,
            lambda w: {**CHANGED_PLAN, "kpi": str(kpi_of_pilot(w)), "metric": "proportion"},
        ),
    ),
    EntryPoint(
        Op.RECORD_MEASUREMENTS,
        "api",
        "kpi-source",
        WRITE,
        api_call(
            "post",
            "kpi-source",
            lambda w: (w.pilot.pk, kpi_of_pilot(w)),
            lambda w: {"connector": "warehouse", "query": "kpi.csv"},
        ),
    ),
    EntryPoint(
        Op.RECORD_EXPERIMENT,
        "api",
        "experiment-plan",
        WRITE,
        api_call("post", "experiment-plan", lambda w: (w.pilot.pk, kpi_of_pilot(w)), lambda w: CHANGED_PLAN),
    ),
    EntryPoint(
        Op.RECORD_EXPERIMENT,
        "api",
        "experiments",
        WRITE,
        api_call(
            "post",
            "experiments",
            lambda w: (w.pilot.pk, kpi_of_pilot(w)),
            lambda w: {
                "name": "Variant B",
                "success_definition": "converted",
                "control_size": 1000,
                "control_successes": 100,
                "treatment_size": 1000,
                "treatment_successes": 130,
            },
        ),
    ),
    EntryPoint(
        Op.RECORD_EXPERIMENT,
        "api",
        "experiment-looks",
        WRITE,
        api_call(
            "post",
            "experiment-looks",
            lambda w: (w.pilot.pk, kpi_of_pilot(w), w.pilot.kpis.get().experiments.get().pk),
            lambda w: {
                "looked_on": f"{timezone.now().date():%Y-%m-%d}",
                "control_size": 9000,
                "control_successes": 900,
                "treatment_size": 9000,
                "treatment_successes": 1170,
            },
        ),
    ),
    EntryPoint(
        Op.RECORD_MONEY,
        "admin",
        "projects_initiative_money",
        WRITE,
        admin_post(
            "projects_initiative_money",
            pilot,
            lambda w: {"kind": "cost", "month": "2020-01", "amount": "1234.50", "description": "Licences"},
        ),
    ),
    EntryPoint(
        Op.RECORD_MONEY,
        "api",
        "financial-entries",
        WRITE,
        api_call(
            "post",
            "financial-entries",
            pilot,
            lambda w: {"kind": "cost", "month": "2020-01-01", "amount": "1200.50"},
        ),
    ),
    EntryPoint(
        Op.UPLOAD_EVIDENCE,
        "admin",
        "projects_initiative_evidence",
        WRITE,
        admin_post(
            "projects_initiative_evidence",
            pilot,
            lambda w: {"kind": "other", "title": "Survey", "file": SimpleUploadedFile("survey.pdf", PDF)},
        ),
    ),
    EntryPoint(
        Op.UPLOAD_EVIDENCE,
        "api",
        "evidence",
        WRITE,
        api_call(
            "post",
            "evidence",
            pilot,
            lambda w: {"kind": "other", "title": "Survey", "file": SimpleUploadedFile("survey.pdf", PDF)},
            fmt="multipart",
        ),
    ),
    # Reviews ----------------------------------------------------------------------------------
    EntryPoint(
        Op.REQUEST_REVIEW,
        "admin",
        "projects_initiative_request_review",
        WRITE,
        admin_post(
            "projects_initiative_request_review", lambda w: (w.proposal.pk,), lambda w: {"gate": "pilot"}
        ),
    ),
    EntryPoint(
        Op.REQUEST_REVIEW,
        "admin",
        "projects_initiative_changelist",
        WRITE,
        admin_action("projects_initiative_changelist", "request_review_selected", lambda w: w.proposal.pk),
        action="request_review_selected",
    ),
    EntryPoint(
        Op.REQUEST_REVIEW,
        "api",
        "initiative-reviews",
        WRITE,
        api_call("post", "initiative-reviews", lambda w: (w.proposal.pk,), lambda w: {}),
    ),
    *(
        EntryPoint(
            Op.SIGN_OFF,
            "admin",
            "governance_gatereview_sign",
            WRITE,
            admin_post(
                "governance_gatereview_sign",
                lambda w: (w.review.pk,),
                lambda w, f=function: {**sign(f), **NO_CONDITIONS},
            ),
            owner=None,
            function=function,
        )
        for function in FUNCTIONS
    ),
    *(
        EntryPoint(
            Op.SIGN_OFF,
            "api",
            "signoffs",
            WRITE,
            api_call("post", "signoffs", lambda w: (w.review.pk,), lambda w, f=function: sign(f)),
            owner=None,
            function=function,
        )
        for function in FUNCTIONS
    ),
    EntryPoint(
        Op.SIGN_OFF,
        "admin",
        "governance_gatereview_queue",
        READ,
        admin_get("governance_gatereview_queue"),
        owner=None,
    ),
    EntryPoint(
        Op.DECIDE_REVIEW,
        "admin",
        "governance_gatereview_hold",
        WRITE,
        admin_post(
            "governance_gatereview_hold",
            lambda w: (w.review.pk,),
            lambda w: {"reason": "Budget freeze", "revisit_on": "2099-01-01"},
        ),
    ),
    EntryPoint(
        Op.DECIDE_REVIEW,
        "admin",
        "governance_gatereview_kill",
        WRITE,
        admin_post("governance_gatereview_kill", lambda w: (w.review.pk,), lambda w: {"reason": "No value."}),
    ),
    EntryPoint(
        Op.ADVANCE_INITIATIVE,
        "admin",
        "governance_gatereview_advance",
        WRITE,
        admin_post("governance_gatereview_advance", lambda w: (w.ready.pk,), lambda w: {}),
        prepare=close_the_conditions,
    ),
    EntryPoint(
        Op.ADVANCE_INITIATIVE,
        "admin",
        "governance_gatereview_changelist",
        WRITE,
        admin_action("governance_gatereview_changelist", "advance_selected", lambda w: w.ready.pk),
        prepare=close_the_conditions,
        action="advance_selected",
    ),
    *(
        EntryPoint(
            Op.CLOSE_CONDITION,
            "admin",
            "governance_condition_close",
            WRITE,
            admin_post(
                "governance_condition_close",
                lambda w, o=owner: (w.conditions[o].pk,),
                lambda w: {"note": "Done."},
            ),
            owner=owner,
        )
        for owner in ("lead", "legal")
    ),
    # Policies, roles, tokens ---------------------------------------------------------------------
    EntryPoint(
        Op.EDIT_POLICY,
        "admin",
        "governance_gatepolicy_add",
        WRITE,
        admin_post("governance_gatepolicy_add", lambda w: (), lambda w: POLICY),
        owner=None,
    ),
    EntryPoint(
        Op.EDIT_POLICY,
        "admin",
        "governance_gatepolicy_change",
        WRITE,
        admin_post("governance_gatepolicy_change", lambda w: (current_policy("scale").pk,), lambda w: POLICY),
        owner=None,
    ),
    EntryPoint(
        Op.MANAGE_MEMBERSHIP,
        "command",
        "role",
        WRITE,
        command(
            "role",
            lambda w, u: "grant",
            lambda w, u: f"--actor={u.username}",
            lambda w, u: "--user=candidate",
            lambda w, u: "--role=auditors",
        ),
        owner=None,
    ),
    EntryPoint(
        Op.READ_MEMBERSHIP,
        "admin",
        "governance_member_changelist",
        READ,
        admin_get("governance_member_changelist"),
        owner=None,
    ),
    EntryPoint(
        Op.READ_MEMBERSHIP,
        "admin",
        "governance_member_change",
        READ,
        admin_get("governance_member_change", lambda w: (w.candidate.pk,)),
        owner=None,
    ),
    EntryPoint(
        Op.MANAGE_MEMBERSHIP,
        "admin",
        "governance_member_change",
        WRITE,
        admin_post(
            "governance_member_change",
            lambda w: (w.candidate.pk,),
            lambda w: {"roles": [roles.AUDITORS], "shown": []},
        ),
        owner=None,
    ),
    EntryPoint(
        Op.MANAGE_API_TOKENS,
        "admin",
        "api_apitoken_add",
        WRITE,
        admin_post("api_apitoken_add", lambda w: (), lambda w: {"name": "My script", "initiative": ""}),
        owner=SELF,
    ),
    EntryPoint(
        Op.MANAGE_API_TOKENS,
        "admin",
        "api_apitoken_changelist",
        WRITE,
        admin_action("api_apitoken_changelist", "revoke", lambda w: w.token_of_lead.pk),
        action="revoke",
    ),
    EntryPoint(
        Op.MANAGE_API_TOKENS,
        "admin",
        "api_apitoken_changelist",
        WRITE,
        admin_action("api_apitoken_changelist", "rotate", lambda w: w.token_of_lead.pk),
        action="rotate",
    ),
    # The ledger ---------------------------------------------------------------------------------
    EntryPoint(
        Op.READ_LEDGER,
        "admin",
        "governance_ledgerevent_changelist",
        READ,
        admin_get("governance_ledgerevent_changelist"),
        owner=None,
    ),
    EntryPoint(Op.READ_LEDGER, "api", "ledger", READ, api_call("get", "ledger", lambda w: ()), owner=None),
    EntryPoint(
        Op.READ_LEDGER, "api", "ledger-head", READ, api_call("get", "ledger-head", lambda w: ()), owner=None
    ),
    EntryPoint(
        Op.READ_LEDGER,
        "api",
        "ledger-proof",
        READ,
        lambda w, user: api_client(user).get(api("ledger-proof") + "?seq=1"),
        owner=None,
        prepare=lambda w: ledger_checkpoint(),
    ),
    EntryPoint(
        Op.READ_LEDGER,
        "api",
        "ledger-consistency",
        READ,
        lambda w, user: api_client(user).get(api("ledger-consistency") + f"?old={ledger_checkpoint().size}"),
        owner=None,
    ),
    EntryPoint(
        Op.EXPORT_LEDGER,
        "command",
        "export_ledger",
        WRITE,
        command(
            "export_ledger",
            lambda w, u: f"--actor={u.username}",
            lambda w, u: f"--output={w.scratch / 'export.csv'}",
        ),
        owner=None,
    ),
    EntryPoint(
        Op.EXPORT_LEDGER,
        "admin",
        "governance_ledgerevent_export",
        WRITE,
        admin_post("governance_ledgerevent_export", lambda w: (), lambda w: {"format": "json"}),
        owner=None,
    ),
    EntryPoint(
        Op.EXPORT_LEDGER,
        "admin",
        "governance_ledgerevent_verify",
        READ,
        admin_get("governance_ledgerevent_verify"),
        owner=None,
    ),
    EntryPoint(
        Op.VIEW_INITIATIVE,
        "admin",
        "evidence-download",
        READ,
        lambda w, user: admin_client(user).get(
            reverse("evidence-download", args=[w.pilot.evidence.order_by("pk").first().pk])
        ),
    ),
    EntryPoint(
        Op.READ_LEDGER,
        "admin",
        "governance_ledgerevent_signoff",
        READ,
        admin_get("governance_ledgerevent_signoff", lambda w: (w.ready.signoffs.first().pk,)),
        owner=None,
    ),
    # Notifications ------------------------------------------------------------------------------
    EntryPoint(
        Op.SEE_DELIVERIES,
        "admin",
        "governance_notificationdelivery_changelist",
        READ,
        admin_get("governance_notificationdelivery_changelist"),
        owner=None,
    ),
    EntryPoint(
        Op.RETRY_NOTIFICATIONS,
        "admin",
        "governance_notificationdelivery_changelist",
        WRITE,
        admin_action(
            "governance_notificationdelivery_changelist", "retry_selected", lambda w: dead_delivery().pk
        ),
        owner=None,
        prepare=lambda w: a_dead_delivery(w),
        action="retry_selected",
    ),
    EntryPoint(
        Op.OWN_NOTIFICATIONS,
        "admin",
        "governance_notificationpreference_add",
        WRITE,
        admin_post(
            "governance_notificationpreference_add",
            lambda w: (),
            lambda w: {"event": "review.opened", "channel": "email"},
        ),
        owner=SELF,
    ),
    # Marking one's own notifications read changes no decision: judged by the answer, like a read.
    EntryPoint(
        Op.OWN_NOTIFICATIONS,
        "admin",
        "governance_notification_changelist",
        READ,
        admin_action(
            "governance_notification_changelist", "mark_read", lambda w: Notification.objects.first().pk
        ),
        owner=SELF,
        action="mark_read",
    ),
]


def a_dead_delivery(w: World) -> None:
    notification = Notification.objects.order_by("pk").first()
    NotificationDelivery.objects.create(
        notification=notification,
        event_key=notification.event_key,
        channel="email",
        destination="user:dead",
        state=DeliveryState.DEAD,
        attempts=8,
        last_error="SMTPRecipientsRefused",
    )


def dead_delivery():
    return NotificationDelivery.objects.get(state=DeliveryState.DEAD)


def attempt(entry: EntryPoint, world: World, person: str) -> tuple[bool, object]:
    """Try `entry` as `person`, roll back; return whether it went through, and what came back."""
    user = world.people[person]
    cache.clear()  # throttle counters
    with transaction.atomic():
        if entry.prepare:
            entry.prepare(world)
        events = LedgerEvent.objects.count()
        result = entry.run(world, user)
        changed = LedgerEvent.objects.count() > events
        transaction.set_rollback(True)
    if entry.kind == WRITE:
        if entry.via == "command":
            return (result is None and changed), result
        return changed, getattr(result, "status_code", result)
    assert not changed, f"reading {entry} changed something"
    if entry.lists is not None and result.status_code == 200:
        return entry.lists(world, result), "a list without the target"
    return shown(result), result.status_code


def shown(response) -> bool:
    """A page or answer was given: 200, or an admin redirect onwards — not back to the login page
    or to the admin's index (where the admin sends whoever asks for an object they may not see)."""
    if response.status_code == 302:
        return "/login/" not in response["Location"] and response["Location"] != reverse("admin:index")
    return response.status_code == 200


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=str)
def test_every_person_meets_what_the_matrix_declares(entry: EntryPoint, tmp_path):
    world = build_world()
    world.scratch = tmp_path
    differs = {}
    granted = []
    for person in ROSTER:
        want = expected(person, entry.operation, owner=entry.owner, function=entry.function)
        went_through, answer = attempt(entry, world, person)
        if went_through != want:
            differs[person] = f"declared {'allowed' if want else 'refused'}, got {answer!r}"
        if want:
            granted.append(person)
    assert granted, f"{entry}: nobody in the roster is granted this; the walk proves nothing"
    assert differs == {}


# The 5th, the first day a month's value reviews open (the day last month's figures are due).
VALUE_REVIEW_DAY = dt.datetime(2026, 4, 5, 6, 0, tzinfo=dt.UTC)


@time_machine.travel(VALUE_REVIEW_DAY, tick=True)
def test_the_scheduler_opens_reviews_and_value_reviews_through_the_tasks():
    """The tasks act as the scheduler, whose column of the matrix grants these two operations."""
    world = build_world()
    assert MATRIX[Operation.REQUEST_REVIEW][Role.SCHEDULER] == Scope.ANY
    assert MATRIX[Operation.OPEN_VALUE_REVIEW][Role.SCHEDULER] == Scope.ANY
    past_its_deadline(world)
    escalate_perpetual_pilots.delay()
    assert GateReview.objects.filter(
        initiative=world.pilot, status=ReviewStatus.OPEN, requested_by=None
    ).exists()
    open_value_reviews.delay()
    assert LedgerEvent.objects.filter(action="value_review.opened").exists()


def test_reading_kpi_sources_is_the_schedulers_and_refused_without_the_grant(monkeypatch, tmp_path):
    world = build_world()
    kpi = world.pilot.kpis.get()
    from governance.tasks import measure_kpis_from_source
    from governance.value.connectors.services import kpi_source_register

    (tmp_path / "kpi.csv").write_text("period,value\n2020-01-01,12\n")
    kpi_source_register(actor=world.pilot.owner, kpi=kpi, connector="warehouse", query="kpi.csv")
    assert MATRIX[Operation.MEASURE_FROM_SOURCE] == {Role.SCHEDULER: Scope.ANY}
    monkeypatch.setitem(MATRIX, Operation.MEASURE_FROM_SOURCE, {})
    with pytest.raises(NotAllowed):
        measure_kpis_from_source.delay()
    assert not kpi.measurements.filter(period=dt.date(2020, 1, 1)).exists()
    monkeypatch.undo()
    (tmp_path / "kpi.csv").write_text("period,value\n2020-01-01,12\n")
    assert measure_kpis_from_source.delay().get() == 1
    assert kpi.measurements.get(period=dt.date(2020, 1, 1)).measured_from_source


@time_machine.travel(VALUE_REVIEW_DAY, tick=True)
@pytest.mark.parametrize("operation", [Operation.REQUEST_REVIEW, Operation.OPEN_VALUE_REVIEW])
def test_the_tasks_ask_the_matrix_a_scheduler_without_the_grant_is_refused(operation, monkeypatch):
    """Take the scheduler's grant out of the matrix: the task is refused and opens nothing."""
    world = build_world()
    past_its_deadline(world)
    monkeypatch.setitem(
        MATRIX, operation, {r: s for r, s in MATRIX[operation].items() if r != Role.SCHEDULER}
    )
    events = LedgerEvent.objects.count()
    task = escalate_perpetual_pilots if operation == Operation.REQUEST_REVIEW else open_value_reviews
    with pytest.raises(NotAllowed):
        task.delay()
    assert LedgerEvent.objects.count() == events
    assert not GateReview.objects.filter(initiative=world.pilot, status=ReviewStatus.OPEN).exists()


# Completeness ------------------------------------------------------------------------------------

# Endpoints that act on no governed object: who-am-I, a member's own pending sign-offs (empty for
# everyone else) and the API's docs.
NOT_AN_OPERATION = {"api:me", "api:pending-signoffs", "api:schema", "api:docs", "api:redoc"}


def api_url_names() -> set[str]:
    resolver = get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) == "api":
            for sub in pattern.url_patterns:
                for inner in getattr(sub, "url_patterns", [sub]):
                    if getattr(inner, "name", None):
                        names.add(f"api:{inner.name}")
    return names


def test_every_api_endpoint_is_walked():
    walked = {f"api:{e.name}" for e in ENTRY_POINTS if e.via == "api"}
    assert api_url_names() - NOT_AN_OPERATION == walked


def test_every_admin_page_action_and_add_form_that_acts_is_walked(rf):
    """Each custom admin page (added by get_urls), each bulk action, and each add or change form
    anyone in the roster is offered, is in the walk."""
    world = build_world()
    walked = {(e.name, e.action) for e in ENTRY_POINTS if e.via == "admin"}
    missing = set()
    for model, model_admin in django_admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in ("projects", "governance", "api"):
            continue
        prefix = f"{opts.app_label}_{opts.model_name}"
        stock = {f"{prefix}_{suffix}" for suffix in ("changelist", "add", "history", "delete", "change")}
        for url in model_admin.get_urls():
            name = getattr(url, "name", None)
            if name and name not in stock and not any(n == name for n, _ in walked):
                missing.add(name)
        for action in model_admin.actions or ():
            if action != "delete_selected" and (f"{prefix}_changelist", action) not in walked:
                missing.add(f"{prefix}_changelist {action}")
        for user in world.people.values():
            request = rf.get("/admin/")
            request.user = user
            if model_admin.has_add_permission(request) and (f"{prefix}_add", None) not in walked:
                missing.add(f"{prefix}_add")
            if model_admin.has_change_permission(request) and (f"{prefix}_change", None) not in walked:
                missing.add(f"{prefix}_change")
    assert missing == set()


def test_every_operation_is_walked_somewhere():
    walked = {e.operation for e in ENTRY_POINTS}
    # The scheduler's alone: see above.
    assert set(Operation) - walked == {Operation.OPEN_VALUE_REVIEW, Operation.MEASURE_FROM_SOURCE}


def test_a_role_group_holds_exactly_the_django_permissions_of_its_operations():
    """The admin's menus come from the same matrix: no group holds a permission no operation needs."""
    from governance.access.matrix import OPERATION_PERMISSIONS

    for group_name, role in roles.GROUP_ROLES.items():
        declared = set()
        for operation, grants in MATRIX.items():
            if role in grants:
                declared |= set(OPERATION_PERMISSIONS[operation])
        assert roles.ROLE_PERMISSIONS[group_name] == declared
        held = {
            f"{app}.{code}"
            for app, code in Group.objects.get(name=group_name).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        exact = {p for p in declared if not p.endswith("*")}
        assert exact <= held
        assert all(any(h.startswith(p[:-1]) for h in held) for p in declared if p.endswith("*"))


def test_the_readme_shows_the_matrix_as_declared():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    out = io.StringIO()
    call_command("permission_matrix", stdout=out)
    assert out.getvalue().strip() in readme
