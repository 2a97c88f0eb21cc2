"""Notifications in the admin: deliveries (dead ones retried from here), a person's own channel
choices, and the outbox rows, each person seeing their own."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from governance.access.matrix import Operation
from governance.errors import DomainError
from governance.notifications.delivery import (
    delivery_retry,
    notification_preference_add,
    notification_preference_remove,
    selectable_channels,
)
from governance.notifications.events import NotificationEvent
from governance.notifications.models import (
    DeliveryState,
    Notification,
    NotificationDelivery,
    NotificationPreference,
)
from governance.workspace.admin.access import access
from governance.workspace.admin.base import ReadOnlyAdmin, ReadOnlyInline, run_for_each


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    """Every message on every channel; the chair and governance admins see them and retry dead ones."""

    list_display = [
        "event_key",
        "channel",
        "destination",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error_short",
    ]
    list_filter = ["state", "channel"]
    search_fields = ["event_key", "last_error"]
    list_select_related = ["notification"]
    show_full_result_count = False
    actions = ["retry_selected"]

    def has_module_permission(self, request):
        return access(request).allows(Operation.SEE_DELIVERIES)

    def has_view_permission(self, request, obj=None):
        return access(request).allows(Operation.SEE_DELIVERIES)

    def has_retry_permission(self, request):
        return access(request).allows(Operation.RETRY_NOTIFICATIONS)

    @admin.display(description=gettext_lazy("Last error"))
    def last_error_short(self, delivery: NotificationDelivery) -> str:
        return delivery.last_error[:120]

    @admin.action(description=gettext_lazy("Retry the selected dead deliveries"), permissions=["retry"])
    def retry_selected(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset.filter(state=DeliveryState.DEAD),
            lambda delivery: delivery_retry(actor=request.user, delivery=delivery),
            done=ngettext_lazy(
                "%(count)d delivery will be tried again now.",
                "%(count)d deliveries will be tried again now.",
                "count",
            ),
        )


@admin.display(description=gettext_lazy("Event"), ordering="event")
def event_name(obj) -> str:
    """The event's name for people; a kind no longer declared as stored."""
    try:
        return str(NotificationEvent(obj.event).label)
    except ValueError:
        return obj.event


class EventFilter(admin.SimpleListFilter):
    """The events by their names, in the catalogue's order."""

    title = gettext_lazy("event")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return NotificationEvent.choices

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


class DeliveryInline(ReadOnlyInline):
    model = NotificationDelivery
    fields = ("channel", "destination", "state", "attempts", "next_attempt_at", "last_error")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Each person's own notifications (their in-app inbox); the chair and governance admins all of them."""

    list_display = ["subject", "recipient", event_name, "created_at", "read_at"]
    list_filter = [EventFilter]
    list_select_related = ["recipient"]
    show_full_result_count = False
    actions = ["mark_read"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access(request).allows(Operation.SEE_DELIVERIES):
            return queryset
        return queryset.filter(recipient=request.user)

    def get_inlines(self, request, obj):
        return [DeliveryInline] if access(request).allows(Operation.SEE_DELIVERIES) else []

    def has_module_permission(self, request):
        return access(request).allows(Operation.OWN_NOTIFICATIONS)

    def has_view_permission(self, request, obj=None):
        if access(request).allows(Operation.SEE_DELIVERIES):
            return True
        owner = obj.recipient_id if obj is not None else None
        return access(request).allows(Operation.OWN_NOTIFICATIONS, owner_id=owner)

    def has_mark_read_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description=gettext_lazy("Mark as read"), permissions=["mark_read"])
    def mark_read(self, request, queryset):
        updated = queryset.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
        self.message_user(
            request,
            # Translators: how many notifications were marked as read.
            ngettext("%(count)d marked as read.", "%(count)d marked as read.", updated) % {"count": updated},
            messages.SUCCESS,
        )


class PreferenceForm(forms.ModelForm):
    event = forms.ChoiceField(label=gettext_lazy("Event"), choices=NotificationEvent.choices)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=())

    class Meta:
        model = NotificationPreference
        fields = ["event", "channel"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ChoiceField)
        channel.choices = [(name, name) for name in selectable_channels()]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """A person's own choices: which events reach them on which channel (e-mail, their committee's chat)."""

    form = PreferenceForm
    list_display = [event_name, "channel"]
    show_full_result_count = False

    def _allowed(self, request, obj=None) -> bool:
        owner = obj.user_id if obj is not None else None
        return access(request).allows(Operation.OWN_NOTIFICATIONS, owner_id=owner)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user=request.user)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return False  # a choice is added or removed, never edited

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def save_model(self, request, obj, form, change):
        created = notification_preference_add(
            actor=request.user, event=form.cleaned_data["event"], channel=form.cleaned_data["channel"]
        )
        obj.pk, obj.user = created.pk, created.user

    def delete_model(self, request, obj):
        notification_preference_remove(actor=request.user, preference=obj)

    def delete_queryset(self, request, queryset):
        for preference in queryset:
            notification_preference_remove(actor=request.user, preference=preference)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:governance_notificationpreference_changelist"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None and not self._allowed(request, self.get_object(request, object_id)):
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)
