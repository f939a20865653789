"""The message centre: one message per outbox row and recipient, and each user's preference."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.employers.models import Employer
from shebao.workflow.models import Outbox, Transaction


class Audience(models.TextChoices):
    OPERATOR = "operator", _("单位经办人")
    CLERK = "clerk", _("经办机构审核人员")


class Message(models.Model):
    """What one user is told about one outbox row. The unique key makes every delivery of the
    row (the queued job, the sweeper, a replay) create it at most once."""

    outbox = models.ForeignKey(Outbox, on_delete=models.CASCADE, related_name="+", verbose_name=_("事件"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("收件人")
    )
    audience = models.CharField(_("身份"), max_length=10, choices=Audience.choices)
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="+", verbose_name=_("单位"))
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("业务")
    )
    kind = models.CharField(_("类别"), max_length=30)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        constraints = [models.UniqueConstraint(fields=["outbox", "recipient"], name="message_outbox_recipient_uniq")]
        indexes = [models.Index(fields=["recipient", "audience", "read_at"], name="message_recipient_unread")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class Preference(models.Model):
    """消息中心 · 通知设置: whether the user wants each message by e-mail too."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    email = models.BooleanField(_("同时发送电子邮件"), default=False)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return f"{self.user_id} email={self.email}"
