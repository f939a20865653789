"""The register is changed only by finished transactions: administrators may look, not touch."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shebao.core import clock
from shebao.core.adminmonths import month_column, month_filter
from shebao.core.months import format_month, parse_month
from shebao.register.models import AssessmentRun, ContributionBase, ContributionLine, Person, Rebase, Relation


class ViewOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # large tables: no second COUNT(*) per page
    list_per_page = 50

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ViewOnlyAdmin):
    list_display = ("name", "id_type", "id_number", "sex", "birth_date", "phone")
    list_filter = ("id_type", "sex")
    search_fields = ("=id_number", "name")
    exclude = ("photo",)


@admin.register(Relation)
class RelationAdmin(ViewOnlyAdmin):
    list_display = (
        "person",
        "employer",
        "insurance_type",
        "status",
        month_column("start_month", _("参保起始年月")),
        month_column("end_month", _("停保年月")),
        "end_reason",
    )
    list_filter = ("status", "insurance_type", month_filter("start_month", _("参保起始年月")))
    list_select_related = ("person", "employer")
    search_fields = ("=person__id_number", "person__name", "=employer__number")


@admin.register(ContributionBase)
class ContributionBaseAdmin(ViewOnlyAdmin):
    list_display = ("person", "employer", "year", "insurance_type", "declared_wage", "base", "provisional")
    list_filter = ("year", "insurance_type")
    list_select_related = ("person", "employer")
    search_fields = ("=person__id_number", "person__name", "=employer__number")


@admin.register(ContributionLine)
class ContributionLineAdmin(ViewOnlyAdmin):
    list_display = (
        "person",
        "employer",
        month_column("month", _("费款所属期")),
        "insurance_type",
        "kind",
        "base",
        "employer_amount",
        "personal_amount",
    )
    list_filter = ("insurance_type", "kind", month_filter("month", _("费款所属期")))
    list_select_related = ("person", "employer")
    search_fields = ("=person__id_number", "person__name", "=employer__number")


class AssessForm(forms.Form):
    month = forms.CharField(label=_("费款所属期"), max_length=20)
    again = forms.BooleanField(label=_("已完成的月份重新核定（只补写缺少的明细）"), required=False)

    def clean_month(self):
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("请填写年月，如 2026-07。"))
        return month


@admin.register(AssessmentRun)
class AssessmentRunAdmin(ViewOnlyAdmin):
    """月度缴费核定: each month's run with its progress, and 开始核定 for a month (in the
    background, on the long queue; the scheduled job does the same every day)."""

    list_display = (
        month_column("month", _("费款所属期")),
        "state",
        "progress",
        "lines_written",
        "skipped",
        "started_at",
        "finished_at",
        "error",
    )
    list_filter = ("state",)

    @admin.display(description=_("进度"))
    def progress(self, obj) -> str:
        return f"{obj.percent}%（{obj.employers_done}/{obj.employers_total}）"

    def get_urls(self):
        urls = [path("assess/", self.admin_site.admin_view(self.assess_view), name="register_assessmentrun_assess")]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra = {"assess_form": AssessForm(initial={"month": format_month(clock.current_month())})}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def assess_view(self, request):
        """开始核定: queue the month's run; the list shows its progress."""
        if request.method != "POST" or not request.user.is_superuser:
            raise PermissionDenied
        form = AssessForm(request.POST)
        back = reverse("admin:register_assessmentrun_changelist")
        if not form.is_valid():
            self.message_user(request, " ".join(str(e) for e in form.errors.get("month", [])), level=messages.ERROR)
            return redirect(back)
        month = form.cleaned_data["month"]
        from django_q.tasks import async_task

        async_task(
            "shebao.register.jobs.assess_month_job",
            month.isoformat(),
            form.cleaned_data["again"],
            cluster=settings.Q_LONG,
            task_name=f"assess-{month:%Y-%m}",
            group="assess",
        )
        self.message_user(
            request, gettext("已开始核定 %(month)s，进度见下表（刷新查看）。") % {"month": format_month(month)}
        )
        return redirect(back)


@admin.register(Rebase)
class RebaseAdmin(ViewOnlyAdmin):
    """基数重新核定: each re-base (a declaration, a publication of limits) with its progress."""

    list_display = (
        "cause",
        "year",
        month_column("from_month", _("起始月份")),
        "transaction",
        "limits",
        "state",
        "progress",
        "bases_changed",
        "lines_written",
        "created_at",
        "finished_at",
    )
    list_filter = ("cause", "state", "year")
    list_select_related = ("transaction", "limits")

    @admin.display(description=_("进度"))
    def progress(self, obj) -> str:
        return f"{obj.done}/{obj.total}"
