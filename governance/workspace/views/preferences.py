"""My preferences: the language and time zone a person reads ValueGate in, and the header's switcher."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from governance.access.models import UserPreferences
from governance.access.preferences import save_preferences


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = UserPreferences
        fields = ["language", "time_zone"]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _with_language_cookie(response, language: str):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@require_POST
def choose_language(request):
    """The header's switcher: the language of the next pages (and, signed in, of one's messages)."""
    form = LanguageForm(request.POST)
    back = _safe_next(request, reverse("admin:index"))
    if not form.is_valid():
        return HttpResponseRedirect(back)
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        save_preferences(request, language=language)
    translation.activate(language)
    return _with_language_cookie(HttpResponseRedirect(back), language)


def my_preferences(request):
    """Language and time zone, for pages, e-mails and chat messages."""
    chosen = UserPreferences.objects.filter(user=request.user).first() or UserPreferences(user=request.user)
    form = PreferencesForm(request.POST or None, instance=chosen)
    if request.method == "POST" and form.is_valid():
        save_preferences(
            request, language=form.cleaned_data["language"], time_zone=form.cleaned_data["time_zone"]
        )
        if form.cleaned_data["language"]:
            translation.activate(form.cleaned_data["language"])
        messages.success(request, _("Your preferences are saved."))
        response = HttpResponseRedirect(reverse("my-preferences"))
        language = form.cleaned_data["language"]
        return _with_language_cookie(response, language) if language else response
    return TemplateResponse(
        request,
        "governance/admin/form_page.html",
        {
            **admin.site.each_context(request),
            "title": _("My preferences"),
            "form": form,
            "back_url": reverse("admin:index"),
            "submit_label": _("Save"),
            "intro": _(
                "The language and time zone ValueGate shows you pages in and writes your e-mails and "
                "chat messages in. Times in the ledger and the API stay in UTC."
            ),
        },
    )
