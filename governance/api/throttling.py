"""Rate limits for API tokens (integrations can loop; people in a browser are not throttled)."""

from __future__ import annotations

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from governance.api.models import ApiToken

logger = logging.getLogger("valuegate.api")


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str:
        # Read at request time, so a deployment (or a test) can change it without a restart.
        return settings.VALUEGATE_API_TOKEN_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        # The counters live in Redis when one is configured. A rate limit protects the service; it
        # must not take it down: with the cache unreachable the request goes through, logged.
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            logger.warning("Rate limit not checked, the cache is unreachable: %s", error)
            return True
