"""The register is changed only by finished transactions: administrators may look, not touch."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shebao.core.adminmonths import month_column, month_filter
from shebao.register.models import ContributionBase, ContributionLine, Person, Relation


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
