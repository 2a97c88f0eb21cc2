"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests, valid and invalid, sent in-process to the WSGI app as
one of several callers (a lead's token, an integration, an auditor, a committee member). No
response may be a 5xx, and every response must match the schema: documented status, content type,
headers and body. Ids in paths mostly point at real objects, so the requests reach the services.
"""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from governance.api.tokens import token_issue
from projects.models import Experiment
from tests.api.conftest import build_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Bounded so the whole run takes well under a minute per database; raise it for a deeper local run.
MAX_EXAMPLES = int(os.environ.get("VALUEGATE_FUZZ_EXAMPLES", "15"))


@pytest.fixture
def in_process_app():
    # The app runs in the test's own thread and transaction: keep Django from closing the
    # connection between requests, as its test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def callers(in_process_app):
    world = build_world()
    secrets = {
        "lead": world.secrets["owner_token"],
        "integration": world.secrets["integration"],
        "auditor": token_issue(actor=world.users["auditor"], name="Audit export")[1],
        "business": token_issue(actor=world.users["business"], name="Review bot")[1],
    }
    ids = {
        "initiative_id": [world.pilot.pk, world.draft.pk, world.proposal.pk, world.other_pilot.pk],
        "kpi_id": [world.kpi.pk, world.draft.kpis.get().pk],
        "review_id": [world.review.pk],
        "experiment_id": list(Experiment.objects.filter(kpi=world.kpi).values_list("pk", flat=True)),
    }
    return {"rotation": itertools.cycle(secrets.values()), "ids": ids}


# Generating the schema reads no database, so it is loaded once, when the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_breaks_the_api_or_its_schema(case, callers):
    for name, choices in callers["ids"].items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, int) and value % 5 != 0:  # four in five point at a real object
            case.path_parameters[name] = choices[value % len(choices)]
    secret = next(callers["rotation"])
    response = case.call(headers={"Authorization": f"Bearer {secret}"})
    case.validate_response(response, checks=CHECKS)
