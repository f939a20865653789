"""The API's own records: tokens, their counters, idempotency keys, validate calls, webhooks.

A token acts for exactly one employer (its administrator created it) and is stored as the
SHA-256 of its secret: the secret is shown once, at creation. Everything else here is per
token, so that a revoked token takes its keys, counters and deliveries out of use with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.employers.models import Employer
from shebao.workflow.models import Outbox


class Scope(models.TextChoices):
    READ = "read", _("只读")
    WRITE = "write", _("读写")


class ApiTokenQuerySet(models.QuerySet):
    def listening(self) -> ApiTokenQuerySet:
        """Tokens that are not revoked and have a webhook address."""
        return self.filter(revoked_at__isnull=True).exclude(webhook_url="")


class ApiToken(models.Model):
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    name = models.CharField(_("名称"), max_length=60)
    scope = models.CharField(_("权限"), max_length=10, choices=Scope.choices, default=Scope.READ)
    # The first characters of the token as shown to its owner (sb_ab12cd34…), to tell tokens apart.
    prefix = models.CharField(_("令牌前缀"), max_length=16)
    digest = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("吊销人"),
    )
    # Webhooks (optional): a signed callback when a transaction finishes or is returned.
    webhook_url = models.CharField(_("回调地址"), max_length=500, blank=True)
    # The Standard Webhooks signing secret (whsec_…); it signs, so it is kept as it is.
    webhook_secret = models.CharField(_("签名密钥"), max_length=80, blank=True)
    # When the webhook was set (from no address to one): only events from then on are sent.
    webhook_since = models.DateTimeField(_("回调启用时间"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        indexes = [models.Index(fields=["employer", "revoked_at"], name="apitoken_employer")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.WRITE


class Counter(models.Model):
    """Requests of a token in one window (a minute for the rate limit, a day for validate's
    quota), counted in the database so that every web process shares them."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+", verbose_name=_("令牌"))
    kind = models.CharField(_("类别"), max_length=20)
    window_start = models.DateTimeField(_("时间窗口"))
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("调用计数")
        verbose_name_plural = _("调用计数")
        constraints = [
            models.UniqueConstraint(fields=["token", "kind", "window_start"], name="counter_token_kind_window")
        ]

    def __str__(self) -> str:
        return f"{self.token_id} {self.kind} {self.window_start}: {self.count}"


class IdempotencyKey(models.Model):
    """One POST of a token under an Idempotency-Key: running, then its response, replayed to a
    retry with the same key and body."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+", verbose_name=_("令牌"))
    key = models.CharField(_("幂等键"), max_length=255)
    fingerprint = models.CharField(_("请求摘要"), max_length=64)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    status = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    content_type = models.CharField(_("响应类型"), max_length=100, blank=True)
    headers = models.JSONField(_("响应头"), default=dict, blank=True)
    body = models.BinaryField(_("响应内容"), default=b"")

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_token_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.token_id} {self.key}"


class ValidateCall(models.Model):
    """The log of 免费预检 (validate) calls: who checked how many rows of which type, when."""

    token = models.ForeignKey(
        ApiToken, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("令牌")
    )
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="+", verbose_name=_("单位"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("用户"),
    )
    business_type = models.CharField(_("业务类型"), max_length=40)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    failed_rows = models.PositiveIntegerField(_("有错误的行数"), default=0)
    status = models.PositiveSmallIntegerField(_("响应状态码"), default=200)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("预检记录")
        verbose_name_plural = _("预检记录")
        indexes = [models.Index(fields=["employer", "at"], name="validatecall_employer_at")]

    def __str__(self) -> str:
        return f"{self.business_type} {self.rows} @ {self.at}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    RETRYING = "retrying", _("重试中")
    FAILED = "failed", _("已放弃")


class WebhookDelivery(models.Model):
    """One outbox event sent to one token's webhook: its attempts and the last response."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+", verbose_name=_("令牌"))
    outbox = models.ForeignKey(Outbox, on_delete=models.CASCADE, related_name="+", verbose_name=_("事件"))
    # The Standard Webhooks webhook-id: the same for every attempt and re-send of this event.
    message_id = models.CharField(_("消息编号"), max_length=40, unique=True)
    event_type = models.CharField(_("事件类型"), max_length=40)
    url = models.CharField(_("回调地址"), max_length=500)
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("最近响应状态码"), null=True, blank=True)
    last_response = models.TextField(_("最近响应内容"), blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("回调投递")
        verbose_name_plural = _("回调投递")
        constraints = [models.UniqueConstraint(fields=["token", "outbox"], name="webhook_token_outbox")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.url} ({self.status})"
