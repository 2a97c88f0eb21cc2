"""Rate limits for API tokens (integrations can loop; people in a browser are not throttled).

Each token has a window of the rate's period (a minute for `1200/minute`) that starts with its
first request; once the window holds the limit, further requests are refused until it ends.

With Redis, one Lua script increments the token's counter and reads its remaining time in a single
atomic step, so concurrent requests in any number of web processes never let more than the limit
through. DRF's own throttle reads the request history, appends and writes it back: concurrent
requests overwrite each other's writes, and several times the limit got through.

Why not the `limits` library, which does the same: it opens a Redis connection of its own beside
the cache's, with its own timeouts and key prefix to configure and keep in step, and its
moving-window keys are lists. A counter under the cache's own connection and key prefix is a
dozen lines, bounded by the cache's timeouts and the request's Redis budget, and cleared with it.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from governance.api.models import ApiToken
from governance.redis_budget import redis_available, redis_call

logger = logging.getLogger("valuegate.api")

# KEYS[1]: the token's counter; ARGV[1]: the window in milliseconds. Returns the count including
# this request and the milliseconds left in the window. A counter left without an expiry (it
# cannot happen here, but would block the token for good) is given one.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    left = tonumber(ARGV[1])
end
return {count, left}
"""

# Without Redis (the embedded default, one web process), the local-memory cache's get and set are
# each atomic but not the two together: one lock per process makes the count exact across threads.
_in_process = threading.Lock()


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"
    # Not DRF's key: its history lists and these counters must not meet during a rolling upgrade.
    cache_format = "throttle_%(scope)s_%(ident)s_count"
    # Set from the rate by SimpleRateThrottle.__init__, which its stubs leave undeclared.
    num_requests: int
    duration: int

    def get_rate(self) -> str:
        # Read at request time, so a deployment (or a test) can change it without a restart.
        return settings.VALUEGATE_API_TOKEN_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return True
        # A rate limit protects the service; it must not take it down: with Redis unreachable (or
        # already found unresponsive in this request) the request goes through, logged.
        backend = caches["default"]
        if isinstance(backend, RedisCache) and not redis_available():
            logger.warning("Rate limit not checked: Redis failed or took its time earlier in this request.")
            return True
        try:
            count, seconds_left = self._count(backend, key)
        except (RedisError, OSError) as error:
            logger.warning("Rate limit not checked, the cache is unreachable: %s", error)
            return True
        self._seconds_left = seconds_left
        return count <= self.num_requests

    def wait(self) -> float:
        return self._seconds_left

    def _count(self, backend, key: str) -> tuple[int, float]:
        if isinstance(backend, RedisCache):
            made = backend.make_and_validate_key(key)
            # The cache's own Redis client: private to RedisCache, so absent from Django's stubs.
            client = backend._cache.get_client(made, write=True)  # type: ignore[attr-defined]
            with redis_call():
                count, left_ms = client.eval(_COUNT, 1, made, int(self.duration * 1000))
            return int(count), int(left_ms) / 1000
        with _in_process:
            now = self.timer()
            count, ends = backend.get(key) or (0, now + self.duration)
            if ends <= now:
                count, ends = 0, now + self.duration
            count += 1
            backend.set(key, (count, ends), timeout=ends - now)
            return count, ends - now
