"""Template filters of the workspace: reasons and money in the reader's words."""

from __future__ import annotations

from django import template

from governance.access.preferences import person_name
from governance.reasons import say
from governance.rules.reasons import Reason
from governance.workspace import people
from governance.workspace.people import person_html
from projects.money import format_money

register = template.Library()


@register.filter(name="say")
def say_reason(reason: Reason | str, currency: str = "") -> str:
    """`{{ requirement.reason|say:currency }}`: a rule's reason in the active language, its money
    in `currency` (the deployment's when empty)."""
    return say(reason, currency=currency or None) if isinstance(reason, Reason) else reason


@register.filter(name="money")
def money(amount, currency: str = ""):
    """`{{ case.budget|money:case.currency }}`: an amount in its currency, as the reader's locale writes it."""
    return format_money(amount, currency or None)


@register.filter(name="money_whole")
def money_whole(amount, currency: str = ""):
    """Totals and charts: the same, without cents."""
    return format_money(amount, currency or None, whole=True)


@register.filter(name="person")
def person(user) -> str:
    """`{{ initiative.owner|person }}`: a person's name as the reader's language writes it."""
    return person_name(user) if user is not None else "—"


@register.simple_tag(takes_context=True)
def person_link(context, user) -> str:
    """`{% person_link review.requested_by %}`: a person's name, a link only to a page about them
    the reader may open."""
    return person_html(context["request"], user) if user is not None else "—"


@register.simple_tag(takes_context=True)
def readonly_contents(context, field) -> str:
    """`{% readonly_contents field %}` in the admin's fieldset templates, for `{{ field.contents }}`:
    a person in a read-only field links only to a page the reader may open."""
    return people.readonly_contents(context["request"], field)
