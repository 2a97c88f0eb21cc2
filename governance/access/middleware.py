"""Log every refused request of the admin and the pages, with who asked and for what."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from governance.refusals import log_refusal


class RefusalLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            log_refusal(
                actor=getattr(request, "user", None),
                operation=request.method,
                target=request.get_full_path(),
                reason=str(exception) or "permission denied",
            )
        return None  # Django answers 403 as usual
