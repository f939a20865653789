"""Administration of users (operators, clerks, administrators) and their memberships."""

from __future__ import annotations

import secrets
import string

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shebao.accounts import lockout
from shebao.accounts.models import Membership, Role, User


def _check_role(form: forms.ModelForm, data: dict) -> dict:
    role, office = data.get("role"), data.get("office")
    if role == Role.CLERK and not office:
        form.add_error("office", _("经办机构审核人员须选择所属经办机构。"))
    if role != Role.ADMIN and (data.get("is_staff") or data.get("is_superuser")):
        form.add_error("role", _("只有系统管理员角色可以登录系统管理。"))
    return data


class ShebaoUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "role", "office")

    def clean(self):
        super().clean()
        return _check_role(self, self.cleaned_data)


class ShebaoUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean(self):
        super().clean()
        return _check_role(self, self.cleaned_data)


class ShebaoPasswordChangeForm(AdminPasswordChangeForm):
    """重置密码: the user must change the password set by an administrator at the next login."""

    def save(self, commit=True):
        user = self.user
        user.must_change_password = True
        lockout.unlock([user.username])
        return super().save(commit=commit)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["employer"]
    fields = ["employer", "is_admin", "active"]


def temporary_password() -> str:
    """12 characters of all four classes: satisfies the password policy."""
    alphabet = string.ascii_letters + string.digits + "!@#$%*"
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(12))
        if (
            any(c.islower() for c in value)
            and any(c.isupper() for c in value)
            and any(c.isdigit() for c in value)
            and any(c in "!@#$%*" for c in value)
        ):
            return value


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = ShebaoUserChangeForm
    add_form = ShebaoUserCreationForm
    change_password_form = ShebaoPasswordChangeForm
    inlines = [MembershipInline]
    list_display = ("username", "get_full_name", "role", "office", "is_active", "must_change_password")
    list_filter = ("role", "office", "is_active", "must_change_password")
    list_select_related = ("office",)
    search_fields = ("username", "first_name", "last_name", "memberships__employer__number")
    ordering = ("username",)
    actions = ["reset_password", "unlock"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("last_name", "first_name", "email")}),
        (_("角色与机构"), {"fields": ("role", "office", "is_active")}),
        (_("登录安全"), {"fields": ("must_change_password", "login_lock")}),
        (
            _("系统管理权限"),
            {"fields": ("is_staff", "is_superuser", "groups", "user_permissions"), "classes": ("collapse",)},
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "last_name",
                    "first_name",
                    "role",
                    "office",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined", "login_lock")

    @admin.display(description=_("姓名"))
    def get_full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description=_("登录锁定"))
    def login_lock(self, obj):
        until = lockout.locked_until(obj.username) if obj is not None and obj.username else None
        if until is None:
            return gettext("未锁定")
        return gettext("锁定至 %(until)s") % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")}

    def get_inlines(self, request, obj):
        return [MembershipInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if obj.role == Role.ADMIN:
            obj.is_staff = True
        if not change:
            # A new administrator manages everything; anyone new changes the password first.
            obj.is_superuser = obj.role == Role.ADMIN
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    @admin.action(description=_("重置密码（生成临时密码，下次登录须修改）"))
    def reset_password(self, request, queryset):
        for user in queryset:
            password = temporary_password()
            user.set_password(password)
            user.must_change_password = True
            user.save()
            lockout.unlock([user.username])
            self.message_user(
                request,
                gettext("用户 %(user)s 的临时密码：%(password)s（下次登录须修改）")
                % {"user": user.username, "password": password},
                messages.WARNING,
            )

    @admin.action(description=_("解除登录锁定"))
    def unlock(self, request, queryset):
        names = list(queryset.values_list("username", flat=True))
        lockout.unlock(names)
        count = len(names)
        self.message_user(request, gettext("已解除 %(count)d 个用户的锁定。") % {"count": count})


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "employer", "is_admin", "active")
    list_filter = ("is_admin", "active")
    list_select_related = ("user", "employer")
    search_fields = ("user__username", "employer__number", "employer__name")
    autocomplete_fields = ["user", "employer"]
