"""OpenAPI additions: the token security scheme, the one error format on every operation, and the
Idempotency-Key header on every write."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from governance.api.idempotency import HEADER

# A rule's reason as a stable code with its parameters (governance/rules/reasons.py): what an
# integration reads, whatever the language of `reason`.
REASON_CODE_SCHEMA = {
    "type": "object",
    "required": ["code", "params"],
    "properties": {"code": {"type": "string"}, "params": {"type": "object"}},
    "description": _("The reason as a stable code with its parameters, e.g. kpi.target_missed."),
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {
                    "type": "string",
                    "description": _("What went wrong, in words a person can act on."),
                },
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": _("Per field, what is wrong with it."),
                },
                "rows": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": _("Bulk input: each refused row's index and reason; nothing was stored."),
                },
                "requirements": {
                    "type": "array",
                    "description": _("The gate requirements that do not hold."),
                    "items": {
                        "type": "object",
                        "required": ["code", "label", "passed", "reason", "reason_code"],
                        "properties": {
                            "code": {"type": "string"},
                            "label": {"type": "string"},
                            "passed": {"type": "boolean"},
                            "reason": {"type": "string"},
                            "reason_code": REASON_CODE_SCHEMA,
                        },
                    },
                },
            },
        }
    },
}

EVERY_OPERATION = {
    "400": _("Bad input: nothing was stored."),
    "401": _("No valid credentials: a missing, unknown or revoked token, or an inactive account."),
    "403": _("Your role does not allow this (or segregation of duties forbids it)."),
    "404": _("Not found, or not visible to you."),
    "405": _("Method not allowed."),
    "406": _("Only JSON responses are offered."),
    "429": _("Too many requests from this token; retry after the Retry-After seconds."),
}
WRITES = {
    "409": _(
        "The initiative or review is not in a state that allows this (or the gate does not pass, "
        "or the Idempotency-Key was used for another request)."
    ),
    "413": _("The request body is too large."),
    "415": _("Unsupported content type."),
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "governance.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": _("An API token issued in the admin: 'Authorization: Bearer vg_…'."),
        }


def add_errors_and_idempotency(result, generator, request, public):
    """Postprocessing hook: every operation documents the error format; writes take Idempotency-Key."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(EVERY_OPERATION)
            if method in ("post", "put", "patch"):
                codes.update(WRITES)
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": HEADER,
                        "required": False,
                        "description": _(
                            "Makes a retried request safe: the same key and body replay the "
                            "first response; the same key with another body is refused (409)."
                        ),
                        "schema": {"type": "string", "pattern": r"^[!-~]{1,255}$", "maxLength": 255},
                    }
                )
            for code, description in codes.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
