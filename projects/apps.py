from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy, pgettext_lazy

from projects import vocabulary

# The vocabulary imports nothing of Django (the gate rules use it); its labels are said through
# Django's lazy translation from here on. Done when Django imports this module, before any app's
# models are imported: a model field, a form or the admin keeps the choices it read at import, so
# ready() would come too late for them.
vocabulary.translate_with(gettext_lazy, pgettext_lazy)


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = gettext_lazy("Portfolio")
