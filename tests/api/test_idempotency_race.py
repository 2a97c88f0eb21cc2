"""Two copies of one request, sent at the same moment with one Idempotency-Key, run once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from governance.ledger.models import LedgerEvent
from projects.models import KPIMeasurement
from tests.api.conftest import build_world, url
from tests.governance.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_retries_with_one_key_store_once_and_answer_alike():
    world = build_world()
    path = url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/measurements/")
    body = {
        "measurements": [{"period": f"2019-{m:02d}-01", "value": "12", "source": "BI"} for m in range(1, 13)]
    }
    events = LedgerEvent.objects.count()

    def send(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.secrets['integration']}")
        return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-storm")

    first, second = run_together(send, 2)
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert (first.status_code, second.status_code) == (201, 201), (first.content, second.content)
    assert first.json() == second.json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in (first, second)) == ["", "true"]
    assert KPIMeasurement.objects.filter(kpi=world.kpi, period__year=2019).count() == 12
    assert LedgerEvent.objects.count() == events + 1
