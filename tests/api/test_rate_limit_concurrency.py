"""Token rate limits hold under concurrent clients: however many threads share a token, no more
requests than the limit get through in its window, and the refused ones get the API's 429."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import redis
import time_machine
from django.db import connections
from django.test import override_settings

from tests.api.conftest import build_world, url
from tests.background.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 60
THREADS = 8
REQUESTS_PER_THREAD = 20  # 160 requests at a limit of 60


@pytest.fixture
def world(db):
    return build_world()


def hammer(world, role: str = "integration") -> list:
    """Every thread sends its requests with the same token, all starting together."""
    start = threading.Barrier(THREADS)
    responses, errors = [], []
    lock = threading.Lock()

    def client_thread():
        try:
            client = world.client(role)
            start.wait(timeout=30)
            mine = [client.get(url("me/")) for _ in range(REQUESTS_PER_THREAD)]
            with lock:
                responses.extend(mine)
        except Exception as error:  # reported below: a thread's failure must fail the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client_thread) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(responses) == THREADS * REQUESTS_PER_THREAD
    return responses


def assert_limit_held(responses) -> None:
    served = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(served) == LIMIT, f"{len(served)} requests got through a limit of {LIMIT}"
    assert {r.status_code for r in refused} == {429}
    body = refused[0].json()
    assert set(body) == {"error"} and body["error"]["code"] == "throttled"
    assert body["error"]["message"].startswith("Request was throttled.")
    assert 1 <= int(refused[0]["Retry-After"]) <= 61


@pytest.mark.redis
@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set: this test needs a real Redis.")
def test_concurrent_clients_sharing_a_token_get_no_more_than_the_limit_through_redis(world):
    prefix = f"valuegate-test-{uuid.uuid4().hex[:8]}"
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    server = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        with override_settings(CACHES=shared, VALUEGATE_API_TOKEN_RATE=f"{LIMIT}/minute"):
            responses = hammer(world)
    finally:
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)
    assert_limit_held(responses)


def test_concurrent_clients_sharing_a_token_get_no_more_than_the_limit_in_one_process(world, settings):
    # The embedded default: no Redis, the local-memory cache of the one web process.
    settings.VALUEGATE_API_TOKEN_RATE = f"{LIMIT}/minute"
    assert_limit_held(hammer(world))


def test_a_throttled_token_is_served_again_once_its_window_has_passed(world, settings):
    settings.VALUEGATE_API_TOKEN_RATE = "2/minute"
    client = world.client("integration")
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True) as clock:
        assert [client.get(url("me/")).status_code for _ in range(3)] == [200, 200, 429]
        clock.shift(dt.timedelta(seconds=30))
        refused = client.get(url("me/"))
        assert refused.status_code == 429 and 29 <= int(refused["Retry-After"]) <= 31
        clock.shift(dt.timedelta(seconds=31))
        assert [client.get(url("me/")).status_code for _ in range(3)] == [200, 200, 429]
