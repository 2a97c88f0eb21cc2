"""A person named on an admin page links to a page about them only when the reader may open it.

Django's admin links every read-only foreign key to the related object's change page, whatever
the reader may open: a name would lead most readers to a refusal. Every admin page names people
through here (the read-only fields of forms and inlines, by the workspace's fieldset templates,
and templates with `{% person_link %}`).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.html import format_html

from governance.access.models import Member

# The pages about a person, the fullest first: their account, then their governance roles.
PERSON_PAGES = ((get_user_model(), "admin:auth_user_change"), (Member, "admin:governance_member_change"))


def person_page(request, person) -> str | None:
    """The address of the first page about `person` that the reader may open, if any."""
    for model, url_name in PERSON_PAGES:
        try:
            model_admin = admin.site.get_model_admin(model)
        except NotRegistered:
            continue
        if model_admin.has_view_or_change_permission(request, person):
            return reverse(url_name, args=[person.pk])
    return None


def person_html(request, person) -> str:
    """`person`'s name, a link to a page about them when the reader may open one."""
    url = person_page(request, person)
    return format_html('<a href="{}">{}</a>', url, person) if url else format_html("{}", person)


def person_in(readonly_field):
    """The person a read-only admin field shows, if it is a foreign key to a user."""
    name = readonly_field.field["field"]
    form = readonly_field.form
    if not isinstance(name, str):
        return None
    try:
        field = form._meta.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not (field.many_to_one and field.related_model is get_user_model()):
        return None
    return getattr(form.instance, name, None)


def readonly_contents(request, readonly_field) -> str:
    """What a read-only admin field shows; a person in it as `person_html` names them."""
    person = person_in(readonly_field)
    if person is None:
        return readonly_field.contents()
    return person_html(request, person)
