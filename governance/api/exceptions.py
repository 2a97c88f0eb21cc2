"""One error format for every API response: {"error": {"code", "message", "fields" | "rows"}}.

Domain errors from the services keep their message: NotAllowed → 403, WrongStage and
GateNotSatisfied → 409 (with the failing requirements), InvalidInput → 400 (MeasurementErrors with
its rows). Anything the request did wrong is a 4xx; a 500 means a defect, and says so in this
format too (server_error, Django's handler500).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from governance.errors import (
    DomainError,
    GateNotSatisfied,
    InvalidInput,
    NotAllowed,
    SegregationOfDuties,
    WrongStage,
)
from governance.reasons import say
from governance.refusals import log_refusal
from governance.rules.gates import Requirement
from governance.rules.reasons import Reason
from governance.value.services import MeasurementErrors


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = _("The request body is too large.")


class RowErrors(exceptions.APIException):
    """Bulk input refused before reaching the service: each bad row's index and reason."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_rows"

    def __init__(self, rows: dict[int, str], message: str | None = None):
        self.rows = rows
        super().__init__(message or refused_rows(rows))


def refused_rows(rows: dict[int, str]) -> str:
    """ "2 rows refused, nothing stored: row 0: …; row 3: …." (the first three rows' reasons)."""
    # Translators: separates the refused rows' reasons ("row 0: …; row 3: …").
    separator = pgettext("between the clauses of a list", "; ")
    shown = separator.join(
        # Translators: %(index)s is a row's position in the batch (from 0); %(reason)s why it was refused.
        gettext("row %(index)s: %(reason)s") % {"index": i, "reason": reason.rstrip(".。")}
        for i, reason in list(rows.items())[:3]
    )
    # Translators: %(rows)s lists the first refused rows and their reasons.
    message = ngettext(
        "%(count)s row refused, nothing stored: %(rows)s.",
        "%(count)s rows refused, nothing stored: %(rows)s.",
        len(rows),
    )
    return message % {"count": len(rows), "rows": shown}


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}}


def _flatten(detail) -> dict[str, list[str]] | list[str] | str:
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    return _messages(detail)


def _messages(detail) -> list[str]:
    if isinstance(detail, list):
        out: list[str] = []
        for item in detail:
            if isinstance(item, dict):
                out.extend(f"{k}: {m}" for k, v in item.items() for m in _messages(v))
            else:
                out.extend(_messages(item))
        return out
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _messages(v)]
    return [str(detail)]


def _validation_response(detail) -> Response:
    fields = _flatten(detail)
    if isinstance(fields, dict):
        non_field = fields.pop("non_field_errors", None)
        first = next(iter(fields.items()), None)
        if non_field:
            message = non_field[0]
        elif first and first[1]:
            # The field's name as the API spells it, then what is wrong with it.
            message = f"{first[0]}: {first[1][0]}"
        else:
            message = gettext("Invalid input.")
        if non_field and fields:
            fields["non_field_errors"] = non_field
        return Response(error_body("invalid", message, fields=fields or None), status=400)
    return Response(error_body("invalid", fields[0] if fields else gettext("Invalid input.")), status=400)


def _said(reason: Reason | str) -> str:
    """A rule's reason in the active language (the rules return codes, not sentences)."""
    return say(reason) if isinstance(reason, Reason) else reason


def requirement_lines(requirements: Iterable[Requirement]) -> list[dict]:
    """Gate requirements as the API shows them (a refusal's, the checklist's): the code stays, the
    label and reason are in the request's language."""
    return [
        {
            "code": r.code,
            "label": _said(r.label),
            "passed": r.passed,
            "reason": _said(r.reason),
            "reason_code": r.reason.as_json(),
        }
        for r in requirements
    ]


def _domain_response(exc: DomainError) -> Response:
    if isinstance(exc, MeasurementErrors):
        return Response(
            error_body("invalid_rows", exc.message, rows={str(i): r for i, r in exc.errors.items()}),
            status=400,
        )
    if isinstance(exc, GateNotSatisfied):
        requirements = requirement_lines(exc.requirements)
        return Response(error_body("gate_not_satisfied", exc.message, requirements=requirements), status=409)
    if isinstance(exc, SegregationOfDuties):
        return Response(error_body("segregation_of_duties", exc.message), status=403)
    if isinstance(exc, NotAllowed):
        return Response(error_body("not_allowed", exc.message), status=403)
    if isinstance(exc, WrongStage):
        return Response(error_body("wrong_stage", exc.message), status=409)
    if isinstance(exc, InvalidInput):
        return Response(error_body("invalid", exc.message), status=400)
    return Response(error_body("refused", exc.message), status=400)


_API_CODES = {
    exceptions.ParseError: "malformed",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "not_allowed",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    PayloadTooLarge: "too_large",
}


def _log_refusal(context, reason: str) -> None:
    request = context.get("request")
    log_refusal(
        actor=getattr(request, "user", None),
        operation=f"API {request.method}" if request is not None else "API",
        target=request.get_full_path() if request is not None else "",
        reason=reason,
    )


def api_exception_handler(exc, context) -> Response | None:
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, RowErrors):
        return Response(
            error_body("invalid_rows", str(exc.detail), rows={str(i): r for i, r in exc.rows.items()}),
            status=400,
        )
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return _validation_response(detail)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", gettext("The request body is too large.")), status=413)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        message = gettext("The request has too many fields or files.")
        return Response(error_body("malformed", message), status=400)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", str(exc) or gettext("Not found.")), status=404)
    if isinstance(exc, PermissionDenied):
        _log_refusal(context, str(exc) or "Not allowed.")
        return Response(error_body("not_allowed", str(exc) or gettext("Not allowed.")), status=403)
    if isinstance(exc, SuspiciousOperation | BadRequest):
        message = gettext("The request could not be understood.")
        return Response(error_body("malformed", message), status=400)
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _API_CODES.items() if isinstance(exc, cls)), exc.default_code)
        if isinstance(exc, exceptions.PermissionDenied):
            _log_refusal(context, str(exc.detail))
        message = exc.detail if isinstance(exc.detail, str) else _messages(exc.detail)[0]
        response = Response(error_body(code, str(message)), status=exc.status_code)
        if isinstance(exc, exceptions.Throttled):
            # Throttled.__init__ sets `wait`; the REST framework's stubs do not declare it.
            wait = exc.wait  # type: ignore[attr-defined]
            if wait is not None:
                response["Retry-After"] = str(int(wait) + 1)
        # Set on the exception by APIView.handle_exception for the authentication schemes.
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        return response
    return None


@csrf_exempt  # a path that matches nothing changes nothing: answer 404, whatever the method
def not_found_view(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error format too."""
    return JsonResponse(error_body("not_found", gettext("No such API endpoint.")), status=404)


API_PATH_PREFIX = "/api/"


def server_error(request, *args, **kwargs):
    """Django's handler500: under /api/ a defect answers in the API's error format, elsewhere with
    Django's own page. Django has already logged the exception and sent got_request_exception."""
    if request.path_info.startswith(API_PATH_PREFIX):
        return JsonResponse(
            error_body(
                "server_error",
                gettext("The server failed to answer this request; the failure is logged for the operators."),
            ),
            status=500,
        )
    return defaults.server_error(request, *args, **kwargs)
