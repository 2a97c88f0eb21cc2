"""Idempotency keys are forgotten after their retention period; token rate limits are counted in
Redis, shared by every web process, and a Redis outage does not take the API down with it."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
import redis
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from governance.api.models import IdempotencyKey
from tests.api.conftest import url
from tests.background.conftest import CLOSED_BROKER_URL, TEST_REDIS_URL

pytestmark = pytest.mark.django_db


def measurement(world, period: str, key: str):
    return world.client("integration").post(
        url(f"initiatives/{world.pilot.pk}/kpis/{world.kpi.pk}/measurements/"),
        {"measurements": [{"period": period, "value": "12.5", "source": "BI"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_key_older_than_its_retention_is_forgotten_by_the_tick_and_a_newer_one_still_replays(
    world, settings
):
    settings.VALUEGATE_IDEMPOTENCY_KEY_DAYS = 7
    assert measurement(world, "2020-01-01", "old-key").status_code == 201
    assert measurement(world, "2020-02-01", "new-key").status_code == 201
    IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - dt.timedelta(days=8))
    IdempotencyKey.objects.filter(key="new-key").update(created_at=timezone.now() - dt.timedelta(days=6))

    out = io.StringIO()
    call_command("governance_tick", stdout=out)
    assert "expired idempotency keys: 1" in out.getvalue()

    replayed = measurement(world, "2020-02-01", "new-key")
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    # The forgotten key is a new request now: it runs, and is refused on its merits (the month is
    # already recorded), rather than being answered from a stored response.
    again = measurement(world, "2020-01-01", "old-key")
    assert again.status_code == 400 and not again.has_header("Idempotent-Replayed")
    assert "2020-01" in again.json()["error"]["message"]


def test_with_the_cache_unreachable_a_token_request_is_served_and_the_outage_logged(world, caplog):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_BROKER_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=unreachable, VALUEGATE_API_TOKEN_RATE="1/minute"):
        with caplog.at_level(logging.WARNING, logger="valuegate.api"):
            statuses = [world.client("integration").get(url("me/")).status_code for _ in range(2)]
    assert statuses == [200, 200]
    assert "Rate limit not checked, the cache is unreachable" in caplog.text


@pytest.mark.redis
@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set: this test needs a real Redis.")
def test_token_limits_are_counted_in_redis_where_every_web_process_sees_them(world):
    prefix = "valuegate-test-throttle"
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(TEST_REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    try:
        with override_settings(CACHES=shared, VALUEGATE_API_TOKEN_RATE="2/minute"):
            client = world.client("integration")
            assert [client.get(url("me/")).status_code for _ in range(2)] == [200, 200]
            # Another process reads the same counter from Redis, and so refuses the third request.
            (counter,) = list(server.scan_iter(f"{prefix}:*throttle_token_*"))
            assert server.get(counter) is not None
            assert client.get(url("me/")).status_code == 429
    finally:
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)
