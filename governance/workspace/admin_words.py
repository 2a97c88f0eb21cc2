"""Words of Django's own admin templates that Django's Chinese catalogue does not translate yet.

Marked here so that `make messages` puts them in ValueGate's catalogue, which Django reads before
its own (LOCALE_PATHS): the admin's frame then reads wholly in Chinese, screen-reader headers too.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

DJANGO_ADMIN_WORDS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
)
