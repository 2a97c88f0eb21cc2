"""The outgoing webhooks in the OpenAPI document: one per event of the notification catalogue,
each with the payload integrations receive (OpenAPI 3.1 `webhooks`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema, extend_schema_serializer
from rest_framework import serializers

from governance.notifications.events import COMMON_DATA, NotificationEvent

# Translators: keep the header names, `v1,`, `whsec_`, the braces and the setting names as they are.
SIGNATURE = _(
    "Signed as the Standard Webhooks specification says: the `webhook-id` header is the delivery's "
    "idempotency key (the same on every retry), `webhook-timestamp` the Unix time of sending, and "
    "`webhook-signature` is `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` "
    "keyed with the endpoint's `whsec_` secret. Answer 2xx within VALUEGATE_NOTIFICATION_TIMEOUT (10 s "
    "by default); anything else is retried "
    "with backoff until VALUEGATE_NOTIFICATION_MAX_ATTEMPTS."
)


class WebhookInitiativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class WebhookDataSerializer(serializers.Serializer):
    event_key = serializers.CharField(help_text=COMMON_DATA["event_key"])
    initiative = WebhookInitiativeSerializer(allow_null=True, help_text=COMMON_DATA["initiative"])
    subject = serializers.CharField(help_text=COMMON_DATA["subject"])
    summary = serializers.CharField(help_text=COMMON_DATA["summary"])
    to_do = serializers.CharField(allow_blank=True, help_text=COMMON_DATA["to_do"])
    link = serializers.CharField(help_text=COMMON_DATA["link"])


@extend_schema_serializer(
    description=_("The body of every webhook: the event's type, when it happened, and what it was about.")
)
class WebhookEventSerializer(serializers.Serializer):
    # For the schema only. The fields are declared here because a field named `data` declared on
    # the class would hide the serializer's own `data`.
    def get_fields(self):
        return {
            "type": serializers.ChoiceField(
                choices=[c for c in NotificationEvent.choices if c[0] != NotificationEvent.OTHER],
                help_text=_("The event, from the catalogue."),
            ),
            "timestamp": serializers.DateTimeField(help_text=_("When it happened (UTC).")),
            "data": WebhookDataSerializer(),
        }


WEBHOOKS = [
    OpenApiWebhook(
        name=event.value,
        decorator=extend_schema(
            summary=event.label,  # lazy: in the language of the request for the schema
            description=SIGNATURE,
            tags=["webhooks"],
            request={"application/json": WebhookEventSerializer},
            responses={200: OpenApiResponse(description=_("Received; any 2xx will do."))},
        ),
    )
    for event in NotificationEvent
    if event != NotificationEvent.OTHER
]
