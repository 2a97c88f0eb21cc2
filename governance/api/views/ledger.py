"""The decision ledger for auditors, and who the caller is."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from governance.access import roles
from governance.access.matrix import principal
from governance.api.models import ApiToken
from governance.api.permissions import IntegrationScope, ReadsLedger
from governance.api.serializers import (
    ConsistencyProofSerializer,
    InclusionProofSerializer,
    LedgerEventSerializer,
    LedgerHeadSerializer,
    MeSerializer,
)
from governance.api.views.base import ApiView, LedgerCursor
from governance.errors import InvalidInput
from governance.ledger.checkpoints import event_inclusion, receipt_inclusion, tree_consistency
from governance.ledger.merkle import EMPTY_ROOT
from governance.ledger.models import LedgerCheckpoint, LedgerEvent, LedgerHead

TAG = ["ledger"]


@extend_schema(
    tags=TAG,
    description=_(
        "Ledger events in sequence order, a cursor page at a time (auditors, chair, governance admins)."
    ),
)
class LedgerListView(ListModelMixin, ApiView):
    serializer_class = LedgerEventSerializer
    pagination_class = LedgerCursor
    permission_classes = [IsAuthenticated, IntegrationScope, ReadsLedger]

    def get_queryset(self):
        return LedgerEvent.objects.filter(seq__isnull=False)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(
    tags=TAG,
    description=_(
        "The tree's size and root, and the latest signed checkpoint: keep it to prove nothing is cut later."
    ),
)
class LedgerHeadView(ApiView):
    serializer_class = LedgerHeadSerializer
    permission_classes = [IsAuthenticated, IntegrationScope, ReadsLedger]

    def get(self, request, *args, **kwargs):
        head = LedgerHead.objects.filter(pk=1).first()
        checkpoint = (
            LedgerCheckpoint.objects.order_by("-size", "-published_at").values_list("note", flat=True).first()
        )
        body = {
            "seq": head.seq if head else 0,
            "hash": head.hash if head else EMPTY_ROOT.hex(),
            "checkpoint": checkpoint,
        }
        return Response(LedgerHeadSerializer(body).data)


def _size(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit():
        # Translators: %(name)s is a query parameter (size, seq, old or new), not to be translated.
        raise InvalidInput(gettext("%(name)s is a tree size (a whole number).") % {"name": name})
    return int(value)


@extend_schema(
    tags=TAG,
    parameters=[OpenApiParameter("seq", int), OpenApiParameter("hash", str), OpenApiParameter("size", int)],
    # Translators: keep the query parameters (?seq=N, ?hash=H, ?size=N) as they are.
    description=_(
        "The inclusion proof of an event (?seq=N or ?hash=H, e.g. a receipt's) in a published checkpoint\n"
        "(?size=N, default the latest), to check with the ledger's public key alone."
    ),
)
class LedgerProofView(ApiView):
    serializer_class = InclusionProofSerializer
    permission_classes = [IsAuthenticated, IntegrationScope, ReadsLedger]

    def get(self, request, *args, **kwargs):
        size, seq = _size(request, "size"), _size(request, "seq")
        digest = (request.query_params.get("hash") or "").strip().lower()
        if (seq is None) == (not digest):
            raise InvalidInput(gettext("Give either seq or hash."))
        try:
            if digest:
                proof = receipt_inclusion(event_hash=digest, size=size)
            else:
                assert seq is not None  # one of the two was given
                proof = event_inclusion(seq=seq, size=size)
        except LookupError as missing:
            raise NotFound(str(missing).strip("'\"")) from None
        return Response(InclusionProofSerializer(proof.as_dict()).data)


@extend_schema(
    tags=TAG,
    parameters=[OpenApiParameter("old", int, required=True), OpenApiParameter("new", int)],
    # Translators: keep the query parameters (?old=SIZE&new=SIZE, new) as they are.
    description=_(
        "The consistency proof between two published checkpoints (?old=SIZE&new=SIZE, new default the latest)."
    ),
)
class LedgerConsistencyView(ApiView):
    serializer_class = ConsistencyProofSerializer
    permission_classes = [IsAuthenticated, IntegrationScope, ReadsLedger]

    def get(self, request, *args, **kwargs):
        old = _size(request, "old")
        if old is None:
            raise InvalidInput(gettext("Give old, the size of the earlier checkpoint."))
        try:
            proof = tree_consistency(old_size=old, new_size=_size(request, "new"))
        except LookupError as missing:
            raise NotFound(str(missing).strip("'\"")) from None
        return Response(ConsistencyProofSerializer(proof).data)


ROLE_NAMES = {
    roles.PROJECT_LEADS: "project_lead",
    roles.COMMITTEE_CHAIR: "chair",
    roles.AUDITORS: "auditor",
    roles.GOVERNANCE_ADMINS: "governance_admin",
}


@extend_schema(
    tags=["identity"],
    description=_("Who you are to the API: your roles, committee functions and, for a token, its binding."),
)
class MeView(ApiView):
    serializer_class = MeSerializer
    integration_methods = frozenset({"GET"})

    def get(self, request, *args, **kwargs):
        user = request.user
        groups = set(user.groups.values_list("name", flat=True))
        token = request.auth if isinstance(request.auth, ApiToken) else None
        body = {
            "username": user.get_username(),
            "roles": sorted(ROLE_NAMES[g] for g in groups if g in ROLE_NAMES),
            "committee_functions": sorted(principal(user).functions),
            "token": token,
        }
        return Response(MeSerializer(body).data)
