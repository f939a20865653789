from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.employers.models import Employer, Office


class Role(models.TextChoices):
    OPERATOR = "operator", _("单位经办人")
    CLERK = "clerk", _("经办机构审核人员")
    ADMIN = "admin", _("系统管理员")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clerks",
        verbose_name=_("所属经办机构"),
        help_text=_("审核人员必填"),
    )
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=True)

    # Set by ShebaoBackend.authenticate on the user it returns: the operator's membership of
    # the employer named at login (None for clerks and administrators). Not a column.
    membership: "Membership | None"

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def is_clerk(self) -> bool:
        return self.role == Role.CLERK

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR


class Membership(models.Model):
    """A user acting for an employer; one person may act for several employers."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户"))
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("单位"))
    is_admin = models.BooleanField(_("单位管理员"), default=False)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("单位经办人")
        verbose_name_plural = _("单位经办人")
        constraints = [models.UniqueConstraint(fields=["user", "employer"], name="membership_user_employer_uniq")]

    def __str__(self) -> str:
        return f"{self.user.username} @ {self.employer.number}"


class PasswordHistory(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d %H:%M}"
