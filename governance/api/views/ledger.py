"""The decision ledger for auditors, and who the caller is."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from governance.access import roles
from governance.access.matrix import principal
from governance.api.models import ApiToken
from governance.api.permissions import IntegrationScope, ReadsLedger
from governance.api.serializers import LedgerEventSerializer, LedgerHeadSerializer, MeSerializer
from governance.api.views.base import ApiView, LedgerCursor
from governance.ledger.chain import GENESIS_HASH
from governance.models import LedgerEvent, LedgerHead

TAG = ["ledger"]


@extend_schema(tags=TAG)
class LedgerListView(ListModelMixin, ApiView):
    """Ledger events in sequence order, a cursor page at a time (auditors, chair, governance admins)."""

    serializer_class = LedgerEventSerializer
    pagination_class = LedgerCursor
    permission_classes = [IsAuthenticated, IntegrationScope, ReadsLedger]

    def get_queryset(self):
        return LedgerEvent.objects.all()

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=TAG)
class LedgerHeadView(ApiView):
    """The chain's last sequence number and hash: compare with an export to prove nothing was cut."""

    serializer_class = LedgerHeadSerializer
    permission_classes = [IsAuthenticated, IntegrationScope, ReadsLedger]

    def get(self, request, *args, **kwargs):
        head = LedgerHead.objects.filter(pk=1).first()
        body = {"seq": head.seq, "hash": head.hash} if head else {"seq": 0, "hash": GENESIS_HASH}
        return Response(LedgerHeadSerializer(body).data)


ROLE_NAMES = {
    roles.PROJECT_LEADS: "project_lead",
    roles.COMMITTEE_CHAIR: "chair",
    roles.AUDITORS: "auditor",
    roles.GOVERNANCE_ADMINS: "governance_admin",
}


@extend_schema(tags=["identity"])
class MeView(ApiView):
    """Who you are to the API: your roles, committee functions and, for a token, its binding."""

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
