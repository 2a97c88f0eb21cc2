"""OpenAPI additions: the token security scheme, the one error format on every operation, and the
Idempotency-Key header on every write."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from governance.api.idempotency import HEADER

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
                    "description": "What went wrong, in words a person can act on.",
                },
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Per field, what is wrong with it.",
                },
                "rows": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Bulk input: each refused row's index and reason; nothing was stored.",
                },
                "requirements": {
                    "type": "array",
                    "description": "The gate requirements that do not hold.",
                    "items": {
                        "type": "object",
                        "required": ["code", "label", "passed", "reason"],
                        "properties": {
                            "code": {"type": "string"},
                            "label": {"type": "string"},
                            "passed": {"type": "boolean"},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}

EVERY_OPERATION = {
    "400": "Bad input: nothing was stored.",
    "401": "No valid credentials: a missing, unknown or revoked token, or an inactive account.",
    "403": "Your role does not allow this (or segregation of duties forbids it).",
    "404": "Not found, or not visible to you.",
    "405": "Method not allowed.",
    "406": "Only JSON responses are offered.",
    "429": "Too many requests from this token; retry after the Retry-After seconds.",
}
WRITES = {
    "409": "The initiative or review is not in a state that allows this (or the gate does not pass, "
    "or the Idempotency-Key was used for another request).",
    "413": "The request body is too large.",
    "415": "Unsupported content type.",
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "governance.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token issued in the admin: 'Authorization: Bearer vg_…'.",
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
                        "description": "Makes a retried request safe: the same key and body replay the "
                        "first response; the same key with another body is refused (409).",
                        "schema": {"type": "string", "pattern": r"^[!-~]{1,255}$", "maxLength": 255},
                    }
                )
            for code, description in codes.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
