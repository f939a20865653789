"""Transactions and their history, view only: changes happen through the services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shebao.workflow.models import Event, Transaction


class ViewOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ViewOnlyMixin, admin.TabularInline):
    model = Event
    extra = 0
    fields = ("at", "actor", "action", "from_state", "to_state", "reason")
    readonly_fields = fields
    ordering = ("at", "id")


class JobFailedFilter(admin.SimpleListFilter):
    """The transactions whose import or audit job was given up after its last attempt."""

    title = _("后台任务")
    parameter_name = "job"

    def lookups(self, request, model_admin):
        return [("failed", _("失败")), ("retried", _("重试中"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(job_failed_at__isnull=False)
        if self.value() == "retried":
            return queryset.filter(job_failed_at__isnull=True, job_attempts__gt=1, state__in=("importing", "auditing"))
        return queryset


@admin.register(Transaction)
class TransactionAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = (
        "serial",
        "employer",
        "business_type",
        "mode",
        "state",
        "returned",
        "total_count",
        "submitted_at",
        "finished_at",
        "job_attempts",
        "job_failed_at",
    )
    list_filter = (JobFailedFilter, "state", "mode", "business_type", "returned")
    list_select_related = ("employer",)
    search_fields = ("=serial", "=employer__number", "employer__name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [EventInline]


@admin.register(Event)
class EventAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "transaction", "actor", "action", "from_state", "to_state", "reason")
    list_filter = ("action",)
    list_select_related = ("transaction", "actor")
    search_fields = ("=transaction__serial",)
    show_full_result_count = False
