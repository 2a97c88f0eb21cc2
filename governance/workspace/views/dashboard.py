"""The portfolio dashboard."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access.matrix import Operation
from governance.notifications.delivery import dead_deliveries
from governance.value.dashboard import portfolio_dashboard
from governance.workspace.admin.access import access
from governance.workspace.views.charts import Bar, column_chart, paired_bar_chart
from governance.workspace.views.common import admin_page
from projects.vocabulary import Stage

STAGE_CSS: dict[str, str] = {
    Stage.DRAFT: "vg-bar vg-stage-draft",
    Stage.PROPOSAL: "vg-bar vg-stage-proposal",
    Stage.PILOT: "vg-bar vg-stage-pilot",
    Stage.SCALE: "vg-bar vg-stage-scale",
    Stage.RETIRED: "vg-bar vg-stage-retired",
    Stage.REJECTED: "vg-bar vg-stage-rejected",
}


def dashboard(request, model_admin):
    """What the viewer may see of the portfolio: a lead's own initiatives, the committee's all."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    data = portfolio_dashboard(access(request).principal, now=now)
    stage_chart = column_chart(
        [Bar(s.label, s.initiatives, STAGE_CSS[s.stage]) for s in data.stages],
        title=_("Initiatives by stage"),
    )
    money_by_stage = paired_bar_chart(
        [(s.label, s.cost, s.benefit) for s in data.stages if s.cost or s.benefit],
        title=_("Investment against realised benefit, by stage"),
        first=_("Invested"),
        second=_("Realised benefit"),
        currency=data.currency,
    )
    money_by_initiative = paired_bar_chart(
        [(i.title, i.cost, i.benefit) for i in data.top_investments],
        title=_("Largest investments in pilot and scale"),
        first=_("Invested"),
        second=_("Realised benefit"),
        currency=data.currency,
    )
    # Dead notification deliveries: someone was not told. The chair and governance admins act on them.
    dead = dead_deliveries() if access(request).allows(Operation.SEE_DELIVERIES) else None
    return admin_page(
        request,
        model_admin,
        "governance/admin/dashboard.html",
        title=_("Portfolio dashboard"),
        data=data,
        stage_chart=stage_chart,
        money_by_stage=money_by_stage,
        money_by_initiative=money_by_initiative,
        now=now,
        dead_deliveries=dead,
    )
