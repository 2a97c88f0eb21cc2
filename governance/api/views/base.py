"""What every API view shares: scoping to the caller's initiatives, pagination."""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from governance.api.permissions import initiatives_for
from projects.models import KPI, Initiative


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ApiView(GenericAPIView):
    # Methods an integration token (bound to one initiative) may use on this view; none by default.
    integration_methods: frozenset[str] = frozenset()

    def get_initiative(self) -> Initiative:
        """The initiative in the URL, if the caller may see it; else 404, whether it exists or not."""
        pk = self.kwargs["initiative_id"]
        initiative = initiatives_for(self.request).select_related("owner", "sponsor").filter(pk=pk).first()
        if initiative is None:
            # Translators: %(initiative)s is an id.
            raise NotFound(gettext("No initiative %(initiative)s is visible to you.") % {"initiative": pk})
        return initiative

    def recorded_by_service(
        self, service, *, answer_status: int = status.HTTP_201_CREATED, **arguments
    ) -> Response:
        """Validate the body with the view's serializer, hand it to `service` as the caller (with
        `arguments`), and answer with what the service stored, as the same serializer shows it."""
        serializer_class = self.serializer_class
        if serializer_class is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} records through a service without a serializer."
            )
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        stored = service(actor=self.request.user, **arguments, **serializer.validated_data)
        return Response(serializer_class(stored).data, status=answer_status)

    def get_kpi(self) -> KPI:
        initiative = self.get_initiative()
        kpi = KPI.objects.filter(initiative=initiative, pk=self.kwargs["kpi_id"]).first()
        if kpi is None:
            # Translators: %(initiative)s and %(kpi)s are ids.
            message = gettext("Initiative %(initiative)s has no KPI %(kpi)s.")
            raise NotFound(message % {"initiative": initiative.pk, "kpi": self.kwargs["kpi_id"]})
        kpi.initiative = initiative
        return kpi


# A ledger position is a sequence number: ASCII digits that fit the BigIntegerField.
LEDGER_POSITION = re.compile(r"[0-9]{1,19}")
BIGINT_MAX = 2**63 - 1


class LedgerCursor(CursorPagination):
    ordering = "seq"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    # Lazy, so that each request reads it in its language (the stubs expect a plain str).
    invalid_cursor_message = _(  # type: ignore[assignment]
        "This cursor was not handed out by the API; follow the next or previous link of a page."
    )

    def decode_cursor(self, request):
        """The cursor sent, or a 400 naming it: a crafted position must not reach the query."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        # The position is the text decoded from the query string (the stubs say an int).
        position = str(cursor.position) if cursor is not None and cursor.position is not None else None
        if position is not None and (not LEDGER_POSITION.fullmatch(position) or int(position) > BIGINT_MAX):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor
