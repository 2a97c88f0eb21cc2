"""How long one web request may wait on Redis: one budget for all its calls together.

A request can ask Redis several things (the token's rate limit, then the publish of the outbox
relay after its decision commits), and each call is bounded by its socket timeouts. A frozen Redis
(its process stopped: connections are accepted, nothing is answered) makes every one of them wait
its whole timeout, one after the other. So within a request, once a Redis call failed or its
Redis calls took the budget (VALUEGATE_REDIS_REQUEST_SECONDS) together, the rest are skipped: the
rate limit is not checked and the notification waits in the outbox for the periodic relay, as
they do when Redis is down. Only the time spent waiting on Redis counts: a long request (a big
upload) still publishes after its decision.

Outside a request (workers, beat, management commands) nothing is skipped: they wait on Redis as
long as their own timeouts and retries say.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import TimeoutError as RedisTimeoutError


@dataclass
class _Budget:
    seconds_left: float
    failed: bool = False


_budget: ContextVar[_Budget | None] = ContextVar("valuegate_redis_budget", default=None)


@contextmanager
def redis_budget(seconds: float):
    """Within this block, Redis calls stop after the first failure or once they took `seconds`."""
    token = _budget.set(_Budget(seconds_left=seconds))
    try:
        yield
    finally:
        _budget.reset(token)


def redis_available() -> bool:
    """Whether a Redis call may still be made: always outside a budget."""
    budget = _budget.get()
    return budget is None or (not budget.failed and budget.seconds_left > 0)


@contextmanager
def redis_call():
    """Around one call to Redis: its time is taken from the budget, and if it raises, the rest of
    the budget's calls are skipped."""
    budget = _budget.get()
    started = time.monotonic()
    try:
        yield
    except BaseException:
        if budget is not None:
            budget.failed = True
        raise
    finally:
        if budget is not None:
            budget.seconds_left -= time.monotonic() - started


def stop_retrying_in_a_request(error: Exception, interval: float) -> None:
    """kombu's `errback` of a publish's retry policy, called before it tries again.

    In a request, a dropped connection (a restarted Redis) is tried again at once, but not a call
    that timed out: that Redis is there and not answering, and another try would cost the request
    another timeout, or several (kombu reconnects first). Outside a request the policy stands.
    """
    budget = _budget.get()
    if budget is None:
        return
    if isinstance(error, (RedisTimeoutError, TimeoutError)) or not redis_available():
        budget.failed = True
        raise error


class RedisBudgetMiddleware:
    """Gives every request its Redis budget; first in MIDDLEWARE, so that it covers everything,
    including what runs when the request's transactions commit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with redis_budget(settings.VALUEGATE_REDIS_REQUEST_SECONDS):
            return self.get_response(request)
