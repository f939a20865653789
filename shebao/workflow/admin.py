"""Transactions and their history, view only: changes happen through the services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shebao.core.templatetags.shebao_tags import reason_text
from shebao.core.text import list_separator
from shebao.workflow import registry
from shebao.workflow.models import Event, State, Transaction
from shebao.workflow.rules import messages
from shebao.workflow.services import ACTION_LABELS

# The keys of an event's detail, in the reader's language.
DETAIL_LABELS = {
    "changed": _("修改的项目"),
    "bytes": _("照片大小（字节）"),
    "version": _("版本"),
    "reasons": _("回退原因"),
    "row": _("行号"),
    "rows": _("行号"),
    "items": _("人员记录"),
    "filename": _("文件名"),
    "row_count": _("行数"),
    "format": _("文件格式"),
    "total": _("人数"),
    "import_failed": _("导入失败人数"),
}


def field_labels(code: str) -> dict[str, str]:
    """The labels of a business type's fields (and header fields), by field name."""
    business = registry.find(code)
    if business is None:
        return {}
    return {spec.name: spec.label for spec in [*business.header_fields, *business.fields]}


def detail_text(event: Event) -> list[str]:
    """An event's detail as lines a reader understands: 月工资：5000 → 6000."""
    labels = field_labels(event.transaction.business_type)
    lines = []
    for key, value in (event.detail or {}).items():
        if key == "changed" and isinstance(value, dict):
            for name, change in value.items():
                old, new = change if isinstance(change, list | tuple) and len(change) == 2 else ("", change)
                lines.append(_line(labels.get(name, name), f"{old or '-'} → {new or '-'}"))
            continue
        if key == "reasons" and isinstance(value, list):
            value = gettext("；").join(messages(value))
        elif isinstance(value, list | tuple):
            value = list_separator().join(str(v) for v in value)
        lines.append(_line(DETAIL_LABELS.get(key, key), value))
    return lines


def _line(label, value) -> str:
    return gettext("%(label)s：%(value)s") % {"label": label, "value": value}


def state_text(code: str) -> str:
    try:
        return str(State(code).label)
    except ValueError:
        return code or "-"


class BusinessTypeFilter(admin.SimpleListFilter):
    """By 业务类型: the types the registry knows, by their names."""

    title = _("业务类型")
    parameter_name = "business_type"

    def lookups(self, request, model_admin):
        return registry.choices()

    def queryset(self, request, queryset):
        return queryset.filter(business_type=self.value()) if self.value() else queryset


class ActionFilter(admin.SimpleListFilter):
    title = _("操作")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(code, str(label)) for code, label in ACTION_LABELS.items() if code != "create"]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() == "save":  # 保存: the first save creates the transaction
            return queryset.filter(action__in=("create", "save"))
        return queryset.filter(action=self.value())


class EventColumns:
    """The columns of an event in the reader's language (the stored codes are not shown)."""

    @admin.display(description=_("操作"), ordering="action")
    def action_label(self, obj):
        return str(ACTION_LABELS.get(obj.action, obj.action))

    @admin.display(description=_("原状态"))
    def from_state_label(self, obj):
        return state_text(obj.from_state)

    @admin.display(description=_("新状态"))
    def to_state_label(self, obj):
        return state_text(obj.to_state)

    @admin.display(description=_("原因"))
    def reason_label(self, obj):
        return reason_text(obj.reason) or "-"

    @admin.display(description=_("详情"))
    def detail_label(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in detail_text(obj))) or "-"

    @admin.display(description=_("操作人"))
    def actor_label(self, obj):
        if obj.actor is None:
            return gettext("系统")
        return obj.actor.get_full_name() or obj.actor.username


class ViewOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ViewOnlyMixin, EventColumns, admin.TabularInline):
    model = Event
    extra = 0
    fields = ("at", "actor_label", "action_label", "from_state_label", "to_state_label", "reason_label")
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
        "business_type_label",
        "mode",
        "state",
        "returned",
        "total_count",
        "submitted_at",
        "finished_at",
        "job_attempts",
        "job_failed_at",
    )
    list_filter = (JobFailedFilter, "state", "mode", BusinessTypeFilter, "returned")
    list_select_related = ("employer",)
    search_fields = ("=serial", "=employer__number", "employer__name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [EventInline]
    exclude = ("business_type",)
    readonly_fields = ("business_type_label",)

    @admin.display(description=_("业务类型"), ordering="business_type")
    def business_type_label(self, obj):
        return registry.label_of(obj.business_type)


@admin.register(Event)
class EventAdmin(ViewOnlyMixin, EventColumns, admin.ModelAdmin):
    list_display = (
        "at",
        "transaction",
        "business_type_label",
        "actor_label",
        "action_label",
        "from_state_label",
        "to_state_label",
        "reason_label",
    )
    list_filter = (ActionFilter,)
    fields = (
        "transaction",
        "business_type_label",
        "at",
        "actor_label",
        "action_label",
        "from_state_label",
        "to_state_label",
        "reason_label",
        "detail_label",
    )
    readonly_fields = fields
    list_select_related = ("transaction", "actor")
    search_fields = ("=transaction__serial",)
    show_full_result_count = False

    @admin.display(description=_("业务类型"))
    def business_type_label(self, obj):
        return registry.label_of(obj.transaction.business_type)
