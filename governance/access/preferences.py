"""A person's language and time zone, and where they apply.

Pages: the middleware activates a signed-in person's saved language (over the cookie and the
browser's Accept-Language that LocaleMiddleware read) and time zone. Messages to a person (e-mail,
chat, in-app) are written inside `in_words_of(reader)`, whoever caused them. The database, the
ledger and the API stay in UTC: the API's times are never shifted to a person's zone.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone, translation

from governance.access.models import UserPreferences, time_zone_names

API_PREFIX = "/api/"


def preferences_of(user) -> UserPreferences | None:
    """The person's saved choices, read afresh (a user object may hold an older copy)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return UserPreferences.objects.filter(user_id=user.pk).first()


def readers_of(users) -> dict[int, tuple[str, str]]:
    """(language, time zone name) of each of `users`, by pk, read in one query."""
    # Users read with select_related("preferences") carry theirs (or None): no query for them.
    chosen = {
        u.pk: u._state.fields_cache["preferences"] for u in users if "preferences" in u._state.fields_cache
    }
    unread = [u.pk for u in users if u.pk not in chosen]
    if unread:
        chosen.update({p.user_id: p for p in UserPreferences.objects.filter(user__in=unread)})
    default_language = translation.get_supported_language_variant(settings.LANGUAGE_CODE)
    readers = {}
    for user in users:
        preferences = chosen.get(user.pk)
        language = (
            preferences.language if preferences is not None and preferences.language else default_language
        )
        zone = (
            preferences.time_zone
            if preferences is not None and preferences.time_zone in time_zone_names()
            else ""
        )
        readers[user.pk] = (language, zone or settings.TIME_ZONE)
    return readers


@contextlib.contextmanager
def in_words_of(reader: tuple[str, str]) -> Iterator[None]:
    """Text made inside is in the reader's language, and times in their time zone."""
    language, zone = reader
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        yield


# The session carries a signed-in person's choices, so that a page costs no query to find them:
# they are copied in at sign-in and whenever the person changes them.
SESSION_LANGUAGE = "valuegate_language"
SESSION_TIME_ZONE = "valuegate_time_zone"


def remember_in_session(session, chosen: UserPreferences | None) -> None:
    session[SESSION_LANGUAGE] = chosen.language if chosen is not None else ""
    session[SESSION_TIME_ZONE] = chosen.time_zone if chosen is not None else ""


def save_preferences(
    request, *, language: str | None = None, time_zone: str | None = None
) -> UserPreferences:
    """The signed-in person's choice, kept for their pages and the messages sent to them."""
    chosen, _created = UserPreferences.objects.get_or_create(user=request.user)
    if language is not None:
        chosen.language = language
    if time_zone is not None:
        chosen.time_zone = time_zone
    chosen.full_clean()
    chosen.save()
    remember_in_session(request.session, chosen)
    return chosen


@receiver(user_logged_in)
def _copy_preferences_into_session(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        remember_in_session(request.session, preferences_of(user))


class PreferencesMiddleware:
    """A signed-in person's saved language and time zone for the page they asked for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(SESSION_LANGUAGE, "") if session is not None else ""
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone = session.get(SESSION_TIME_ZONE, "") if session is not None else ""
        # The API answers in UTC whoever asks; its messages follow the request's language.
        if zone in time_zone_names() and not request.path.startswith(API_PREFIX):
            timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# Languages that write a person's family name first, with no space: 孙磊, not 磊 孙.
FAMILY_NAME_FIRST = ("zh",)


def person_name(user) -> str:
    """How the active language writes a person's name; their username when they gave none."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not (first or last):
        return user.get_username()
    if (translation.get_language() or "").startswith(FAMILY_NAME_FIRST):
        return f"{last}{first}"
    return f"{first} {last}".strip()
