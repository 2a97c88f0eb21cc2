"""`Idempotency-Key`: a retried request is answered with the first one's response, not run twice.

The key is scoped to the caller (the token, or the user for a session). The key is claimed, the
handler run and its response stored in one transaction, so a success is either recorded with its
key or not at all, and two concurrent requests with one key run once. A retry with the same key and the same request replays the stored response; with another
request it is refused (409). Only successes are stored: a refused request changed nothing, so
sending it again, corrected or not, simply runs it again. Stored responses are kept
VALUEGATE_IDEMPOTENCY_KEY_DAYS days (idempotency_keys_purge, run daily): a client retries within
minutes or hours, and the table must not grow with every request an integration ever made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from governance.api.models import ApiToken, IdempotencyKey

HEADER = "Idempotency-Key"
KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, no spaces


class KeyReused(APIException):
    status_code = 409
    default_code = "idempotency_key_reused"
    default_detail = _(
        "This Idempotency-Key was already used for a different request; use a new key for a new request."
    )


def principal_of(request) -> str:
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken):
        return f"token:{token.pk}"
    return f"user:{request.user.pk}"


def fingerprint(request) -> str:
    """SHA-256 over the method, path and the parsed body (files by their content hash)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # multipart: a QueryDict of fields and files
        fields = sorted((k, [str(v) for v in vs]) for k, vs in request.POST.lists())
        digest.update(json.dumps(fields).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(name.encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _replay(stored: IdempotencyKey, print_: str) -> Response:
    if stored.fingerprint != print_:
        raise KeyReused()
    response = Response(json.loads(stored.response_body), status=stored.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotently(request, handler: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not KEY_FORMAT.match(key):
        raise ValidationError({HEADER: [gettext("1 to 255 visible ASCII characters, e.g. a UUID.")]})
    principal = principal_of(request)
    print_ = fingerprint(request)
    stored = IdempotencyKey.objects.filter(principal=principal, key=key).first()
    if stored is not None:
        return _replay(stored, print_)
    try:
        with transaction.atomic():
            # Claim the key before running: a concurrent request with the same key waits on the
            # unique index until this transaction ends, then finds the stored response.
            claim = IdempotencyKey.objects.create(
                key=key,
                principal=principal,
                user=request.user,
                token=request.auth if isinstance(request.auth, ApiToken) else None,
                fingerprint=print_,
                response_status=0,
                response_body="",
            )
            response = handler()
            if 200 <= response.status_code < 300:
                claim.response_status = response.status_code
                claim.response_body = JSONRenderer().render(response.data).decode("utf-8")
                claim.save(update_fields=["response_status", "response_body"])
            else:
                claim.delete()
    except IntegrityError:
        # Another request with this key committed first; this one was rolled back whole.
        stored = IdempotencyKey.objects.filter(principal=principal, key=key).first()
        if stored is None:
            raise
        return _replay(stored, print_)
    return response


def idempotent(method):
    """Decorate a view's POST/PUT/PATCH handler to honour the Idempotency-Key header."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        return run_idempotently(request, lambda: method(self, request, *args, **kwargs))

    return wrapper


def idempotency_keys_purge(*, now: dt.datetime) -> int:
    """Forget stored responses older than the retention period; a later retry with such a key runs
    as a new request. Bookkeeping, not a decision: no ledger event. Returns how many were removed."""
    cutoff = now - dt.timedelta(days=settings.VALUEGATE_IDEMPOTENCY_KEY_DAYS)
    removed, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return removed
