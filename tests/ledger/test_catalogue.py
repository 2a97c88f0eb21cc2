"""The catalogue of ledger events: nothing undeclared, and nothing mismatched, is ever written."""

from __future__ import annotations

import ast
import datetime as dt
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction

from governance.access import roles
from governance.access.membership import account_changed, account_flags, membership_revoke
from governance.api.tokens import token_issue, token_revoke, token_rotate
from governance.audit.services import ledger_export
from governance.ledger.chain import ledger_append, ledger_batch
from governance.ledger.events import (
    CATALOGUE,
    CONDITION_CLOSED,
    KPI_MEASUREMENTS_RECORDED,
    REVIEW_OPENED,
    LedgerEventType,
    PayloadMismatch,
    UnknownLedgerEvent,
    declared,
    shape,
)
from governance.ledger.models import LedgerEvent, LedgerHead
from governance.notifications.delivery import (
    delivery_retry,
    notification_preference_add,
    notification_preference_remove,
    relay,
)
from governance.notifications.models import DeliveryState, NotificationDelivery
from governance.reviews.initiatives import initiative_update_draft
from governance.reviews.models import Condition, GateReview
from governance.reviews.policies import policy_version_create
from governance.reviews.signoffs import ConditionInput, condition_close, signoff_record
from governance.schedule import run_periodic_work
from governance.value.plans import PlanInput, experiment_plan_register
from projects.models import Initiative
from projects.vocabulary import ReviewStatus, Stage
from tests.clock import configured_clock

pytestmark = pytest.mark.django_db

# The instant every test starts at (tests/clock.py), never today's date.
NOW = configured_clock()


def nothing_written() -> bool:
    head = LedgerHead.objects.filter(id=1).values_list("seq", flat=True).first()
    return not LedgerEvent.objects.exists() and head in (None, 0)


def test_an_action_the_catalogue_does_not_declare_is_refused_and_nothing_is_written():
    with pytest.raises(UnknownLedgerEvent, match="'signoff.forged' is not declared"), transaction.atomic():
        ledger_append(actor=None, action="signoff.forged", payload={})
    assert nothing_written()


def test_in_a_batch_an_undeclared_action_is_refused_where_it_is_appended_and_the_batch_is_dropped():
    with pytest.raises(UnknownLedgerEvent), transaction.atomic(), ledger_batch():
        ledger_append(actor=None, action=CONDITION_CLOSED, payload={"condition": 1, "note": "Met."})
        ledger_append(actor=None, action="condition.reopened", payload={"condition": 1})
        pytest.fail("the undeclared append should have raised at once")  # pragma: no cover
    assert nothing_written()


def test_an_event_type_that_is_not_the_catalogue_s_own_is_refused():
    lookalike = LedgerEventType(code="condition.closed", label="Closed", payload=shape())
    with pytest.raises(UnknownLedgerEvent), transaction.atomic():
        ledger_append(actor=None, action=lookalike, payload={})
    assert nothing_written()


@pytest.mark.parametrize(
    ("action", "payload", "problem"),
    [
        pytest.param(CONDITION_CLOSED, {"condition": 1}, "lacks 'note'", id="missing key"),
        pytest.param(
            CONDITION_CLOSED,
            {"condition": 1, "note": "Met.", "closed_by": "rosa"},
            "has 'closed_by', which the event does not declare",
            id="unexpected key",
        ),
        pytest.param(
            CONDITION_CLOSED,
            {"condition": "1", "note": "Met."},
            "payload.condition should be int",
            id="text for int",
        ),
        pytest.param(
            CONDITION_CLOSED,
            {"condition": True, "note": "Met."},
            "payload.condition should be int",
            id="bool for int",
        ),
        pytest.param(
            REVIEW_OPENED,
            {"review": 1, "gate": "pilot", "policy_version": 1, "functions": ["legal"], "reason": 7},
            "payload.reason should be text",
            id="wrong type of an optional key",
        ),
        pytest.param(
            KPI_MEASUREMENTS_RECORDED,
            {
                "kpi": 1,
                "measurements": [{"period": "2025-01-01", "value": 5, "sample_size": None, "source": "BI"}],
            },
            "payload.measurements[0].value should be decimal",
            id="nested wrong type",
        ),
        pytest.param(
            KPI_MEASUREMENTS_RECORDED,
            {
                "kpi": 1,
                "measurements": [{"period": "2025-13-01", "value": "5", "sample_size": 3, "source": "BI"}],
            },
            "payload.measurements[0].period should be date",
            id="not a date",
        ),
    ],
)
def test_a_payload_that_does_not_match_its_schema_is_refused_and_nothing_is_written(action, payload, problem):
    with (
        pytest.raises(PayloadMismatch, match=problem.replace("[", r"\[").replace("]", r"\]")),
        transaction.atomic(),
    ):
        ledger_append(actor=None, action=action, payload=payload)
    assert nothing_written()


def test_the_schema_is_checked_on_the_stored_form_dates_and_decimals_as_text():
    from decimal import Decimal

    with transaction.atomic():
        event = ledger_append(
            actor=None,
            action=KPI_MEASUREMENTS_RECORDED,
            payload={
                "kpi": 1,
                "measurements": [
                    {
                        "period": dt.date(2025, 1, 1),
                        "value": Decimal("5.50"),
                        "sample_size": None,
                        "source": "BI",
                    }
                ],
            },
        )
    assert event.action == "kpi.measurements_recorded"
    assert '"period":"2025-01-01"' in event.payload and '"value":"5.50"' in event.payload


def test_a_catalogue_code_cannot_be_declared_again_for_a_test():
    with pytest.raises(ValueError, match="Already declared: signoff.recorded"):
        with declared(LedgerEventType(code="signoff.recorded", label="x", payload=None)):
            pass  # pragma: no cover


def test_every_event_of_the_catalogue_has_a_label_and_a_payload_schema():
    assert len(CATALOGUE) == len({str(e.label) for e in CATALOGUE.values()})  # labels tell them apart
    for code, event in CATALOGUE.items():
        assert event.code == code and str(event.label) and event.payload is not None


# Only special paths write these: a periodic job, an admin's or auditor's action, a second sign-off.
SPECIAL_PATHS = {
    "signoff.reminded": "the periodic chase of awaited sign-offs",
    "signoff.escalated": "the periodic chase of awaited sign-offs",
    "pilot.escalated": "the periodic escalation of pilots past their deadline",
    "exit_criteria.met": "the periodic enforcement of exit criteria",
    "value_review.opened": "the monthly value reviews",
    "initiative.updated": "a lead editing a draft",
    "signoff.superseded": "a member signing the same review again",
    "condition.closed": "closing a condition of an approval with conditions",
    "policy.version_created": "an admin saving a gate policy",
    "membership.revoked": "an admin revoking a role",
    "account.changed": "an admin changing an account's flags",
    "api_token.issued": "issuing an API token",
    "api_token.revoked": "revoking an API token",
    "api_token.rotated": "rotating an API token",
    "ledger.exported": "an auditor exporting the ledger",
    "notification.retried": "the chair retrying a dead notification delivery",
    "notification.channel_chosen": "a person choosing a channel for an event",
    "notification.channel_dropped": "a person dropping a channel they chose",
    "experiment_plan.changed": "a lead changing an experiment plan after data arrived",
}


def test_every_event_of_the_catalogue_is_written_by_the_services_and_no_other():
    call_command("seed_demo", stdout=io.StringIO())
    by_demo = set(LedgerEvent.objects.values_list("action", flat=True))
    people = {u.username: u for u in get_user_model().objects.all()}

    run_periodic_work(now=NOW + dt.timedelta(days=10))
    draft = Initiative.objects.get(stage=Stage.DRAFT, owner=people["lead-service"])
    initiative_update_draft(actor=people["lead-service"], initiative=draft, department="Legal and compliance")
    review = GateReview.objects.get(status=ReviewStatus.OPEN, signoffs__function__code="legal")
    signoff_record(
        actor=people["legal"],
        review=review,
        function="legal",
        decision="approve_with_conditions",
        rationale="Approved once the supplier clauses are listed.",
        conditions=[ConditionInput(text="List the supplier clauses.", due_on=NOW.date())],
        now=NOW,
    )
    condition = Condition.objects.get(text="List the supplier clauses.")
    condition_close(actor=condition.owner, condition=condition, note="Listed.")
    policy_version_create(actor=people["govadmin"], gate="pilot", max_pilot_days=120)
    membership_revoke(
        actor=people["govadmin"],
        user=people["risk"],
        group=Group.objects.get(name=roles.FUNCTION_GROUPS["risk_ethics"]),
    )
    before = account_flags(people["finance"])
    with transaction.atomic():
        people["finance"].is_staff = False
        people["finance"].save()
        account_changed(actor=people["govadmin"], user=people["finance"], before=before)
    token, _ = token_issue(actor=people["lead-retail"], name="BI push")
    token, _ = token_rotate(actor=people["lead-retail"], token=token)
    token_revoke(actor=people["lead-retail"], token=token)
    ledger_export(actor=people["auditor"], out=io.BytesIO(), fmt="json")
    relay()
    delivery = NotificationDelivery.objects.filter(state=DeliveryState.SENT).first()
    NotificationDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD)
    delivery_retry(actor=people["chair"], delivery=delivery)
    scaled = Initiative.objects.get(stage=Stage.SCALE)
    experiment_plan_register(
        actor=scaled.owner,
        kpi=scaled.kpis.get(is_primary=True),
        plan=PlanInput(minimum_effect="0.5", treatment_share="0.5", planned_looks=12, traffic_per_month=4000),
        reason="The effect that pays was revised.",
        now=NOW,
    )
    choice = notification_preference_add(actor=people["legal"], event="review.opened", channel="email")
    notification_preference_remove(actor=people["legal"], preference=choice)

    written = set(LedgerEvent.objects.values_list("action", flat=True))
    assert written == set(CATALOGUE)  # every declared event is written, and nothing else
    assert sorted(set(CATALOGUE) - by_demo) == sorted(SPECIAL_PATHS)


def test_the_readme_lists_the_events_as_the_catalogue_declares_them():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    out = io.StringIO()
    call_command("ledger_events", stdout=out)
    assert out.getvalue().strip() in readme


def test_the_code_appends_events_by_their_catalogue_constants_never_by_a_free_string():
    root = Path(__file__).resolve().parents[2] / "governance"
    free = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "ledger_append",
                "_record",
            ):
                arguments = [k.value for k in node.keywords if k.arg == "action"] + node.args[:1]
                if any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in arguments):
                    free.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert free == []
