"""Every lock is as narrow as its row: decisions on different initiatives never wait for each other."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from django.db import OperationalError, close_old_connections, connection, connections, transaction

from governance.reviews.models import GateReview
from governance.reviews.services import lock_review, review_open
from governance.reviews.signoffs import signoff_record
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def test_every_select_for_update_in_the_product_names_the_rows_it_locks():
    """Without OF, PostgreSQL also locks every row joined in (a review's gate policy, which all
    open reviews of that gate share), so unrelated decisions would queue on it."""
    unnamed = []
    for package in ("governance", "projects", "config"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "select_for_update"
                    and not any(k.arg == "of" for k in node.keywords)
                ):
                    unnamed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unnamed == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite locks the whole database")
def test_sign_offs_on_two_initiatives_of_one_gate_policy_proceed_while_the_other_holds_its_locks():
    members = factories.committee()
    first, second = (factories.proposal_ready_for_pilot_gate() for _ in range(2))
    held_review = review_open(actor=first.owner, initiative=first)
    other_review = review_open(actor=second.owner, initiative=second)
    assert held_review.policy_id == other_review.policy_id

    locked, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold_the_first_review():
        # A sign-off on the first initiative, stopped inside its locked section.
        try:
            with transaction.atomic():
                lock_review(held_review)
                locked.set()
                release.wait(timeout=30)
        except BaseException as error:  # reported by the test below
            failures.append(error)
            locked.set()
        finally:
            close_old_connections()
            connection.close()

    holder = threading.Thread(target=hold_the_first_review)
    holder.start()
    try:
        assert locked.wait(timeout=30) and not failures
        with connections["default"].cursor() as cursor:
            # Waiting on a lock the holder has fails within seconds instead of hanging the test.
            cursor.execute("SET lock_timeout = '3s'")
        try:
            signoff_record(
                actor=members["business"],
                review=other_review,
                function="business",
                decision="approve",
                rationale="Reviewed while another sign-off was in progress.",
            )
        except OperationalError as error:
            pytest.fail(f"The sign-off waited for a lock of another initiative's sign-off: {error}")
        finally:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        holder.join(timeout=30)
    assert not failures
    assert GateReview.objects.get(pk=other_review.pk).signoffs.count() == 1
