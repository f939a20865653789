"""Transactions (业务), their items, the append-only event log and the person lock."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.employers.models import Employer
from shebao.workflow.tasklists import UNLISTED_FIELDS, TransactionQuerySet, bump_after_commit


class State(models.TextChoices):
    IMPORTING = "importing", _("导入中")
    SAVED = "saved", _("已保存")
    RETURNED = "returned", _("已回退")
    AUDITING = "auditing", _("自动审核中")
    REVIEW = "review", _("待经办机构审核")
    FINISHED = "finished", _("已结束")
    CANCELLED = "cancelled", _("已退单")


OPEN_STATES = (State.IMPORTING, State.SAVED, State.RETURNED, State.AUDITING, State.REVIEW)
TODO_STATES = (State.IMPORTING, State.SAVED, State.RETURNED)
DONE_STATES = (State.AUDITING, State.REVIEW, State.FINISHED)
EDITABLE_STATES = (State.SAVED, State.RETURNED)


class Mode(models.TextChoices):
    SINGLE = "single", _("单个")
    BATCH = "batch", _("批量")


class Transaction(models.Model):
    serial = models.CharField(_("流水号"), max_length=24, unique=True, null=True)
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="transactions", verbose_name=_("单位")
    )
    business_type = models.CharField(_("业务类型"), max_length=30)
    mode = models.CharField(_("办理方式"), max_length=10, choices=Mode.choices, default=Mode.SINGLE)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("经办人")
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.SAVED)
    version = models.PositiveIntegerField(_("版本"), default=1)
    returned = models.BooleanField(_("回退标志"), default=False)
    return_reasons = models.JSONField(_("回退原因"), default=list, blank=True)
    needs_review = models.BooleanField(_("须经办机构审核"), default=False)
    header = models.JSONField(_("业务信息"), default=dict, blank=True)  # business-level fields (e.g. 申报年度)
    # Counts: rows of the transaction, import failures, audit passes/failures, applied.
    total_count = models.PositiveIntegerField(_("人数"), default=0)
    import_failed_count = models.PositiveIntegerField(_("导入失败人数"), default=0)
    audit_passed_count = models.PositiveIntegerField(_("审核通过人数"), default=0)
    audit_failed_count = models.PositiveIntegerField(_("审核未通过人数"), default=0)
    applied_count = models.PositiveIntegerField(_("已生效人数"), default=0)
    # Progress of background work; not part of the version (a counter is not a change).
    progress_done = models.PositiveIntegerField(_("后台进度（已处理）"), default=0)
    progress_total = models.PositiveIntegerField(_("后台进度（总数）"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    saved_at = models.DateTimeField(_("保存时间"), null=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True)
    touched_at = models.DateTimeField(_("最后操作时间"), auto_now_add=True)  # last change by a person (draft expiry)
    # The background job's last sign of life: set when an import or audit is queued and at
    # every chunk it commits; the sweepers re-queue a job silent for too long.
    heartbeat_at = models.DateTimeField(_("后台任务心跳时间"), null=True)
    # The background job (import or audit) counts its deliveries here, so that a job that
    # fails or dies on every delivery is given up after SHEBAO_JOB_MAX_ATTEMPTS instead of
    # being re-queued for ever; reset when the transaction is submitted again. A job given
    # up sets job_failed_at: an import stays 导入中 with its reason and can be cancelled, an
    # audit returns the transaction. job_error is for the administrator (reference, error).
    job_attempts = models.PositiveSmallIntegerField(_("后台任务次数"), default=0)
    job_failed_at = models.DateTimeField(_("后台任务失败时间"), null=True, blank=True)
    job_error = models.CharField(_("后台任务错误"), max_length=500, blank=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        verbose_name = _("业务")
        verbose_name_plural = _("业务")
        indexes = [
            models.Index(fields=["employer", "state", "-id"], name="tx_employer_state_id"),
            models.Index(fields=["state", "touched_at"], name="tx_state_touched"),
            models.Index(fields=["employer", "business_type", "mode", "-id"], name="tx_employer_type_mode"),
        ]

    def __str__(self) -> str:
        return self.serial or f"#{self.pk}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if fields is None or not set(fields) <= UNLISTED_FIELDS:
            bump_after_commit([self.employer_id], using=kwargs.get("using") or self._state.db or "default")

    def delete(self, *args, **kwargs):
        employer_id = self.employer_id
        result = super().delete(*args, **kwargs)
        bump_after_commit([employer_id], using=kwargs.get("using") or self._state.db or "default")
        return result

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # The guide's words for the state (DOMAIN §4).
    @property
    def business_status_label(self) -> str:
        if self.state == State.IMPORTING:
            # An import is returned to the user only when its job failed for good.
            return str(_("导入失败") if self.returned else _("导入中"))
        if self.state in (State.SAVED, State.RETURNED):
            return str(_("未提交"))
        if self.state == State.CANCELLED:
            return str(_("已退单"))
        return str(_("已提交"))

    @property
    def approval_label(self) -> str:
        if self.state in (State.AUDITING, State.REVIEW):
            return str(_("进行中"))
        if self.state == State.FINISHED:
            return str(_("结束"))
        if self.state == State.RETURNED:
            return str(_("回退"))
        return ""

    @property
    def outcome(self) -> tuple[str, str]:
        """办理结果: what happened, unambiguously, and its tone (ok / bad / run / "").

        The guide's columns keep their values (业务状态 stays 已提交 after 结束); this one says
        whether everyone took effect, how many did not, or that it was returned or cancelled.
        """
        if self.state == State.FINISHED:
            failed = (self.audit_failed_count or 0) + (self.import_failed_count or 0)
            if failed:
                return str(_("办结，%(n)s 人未生效") % {"n": failed}), "bad"
            if self.mode == Mode.BATCH:
                return str(_("办结，全部 %(n)s 人已生效") % {"n": self.applied_count}), "ok"
            return str(_("办结，已生效")), "ok"
        if self.state == State.RETURNED:
            return str(_("已回退，请修改后重新提交")), "bad"
        if self.state == State.CANCELLED:
            return str(_("已退单")), ""
        if self.state == State.REVIEW:
            return str(_("待经办机构审核")), "run"
        if self.state == State.AUDITING:
            return str(_("自动审核中")), "run"
        return "", ""

    @property
    def returned_flag_label(self) -> str:
        if self.state in TODO_STATES:
            return str(_("是") if self.returned else _("否"))
        return ""


class ItemStatus(models.TextChoices):
    IMPORTED = "imported", _("导入成功")
    IMPORT_FAILED = "import_failed", _("导入失败")
    DELETED = "deleted", _("已删除")


class AuditStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    PASSED = "passed", _("审核通过")
    FAILED = "failed", _("审核失败")


class Item(models.Model):
    """One person's row of a transaction: entered or uploaded data and its results."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="items")
    row_no = models.PositiveIntegerField(_("行号"), default=1)
    status = models.CharField(max_length=20, choices=ItemStatus.choices, default=ItemStatus.IMPORTED)
    id_key = models.CharField(max_length=24, blank=True, db_index=True)
    id_number = models.CharField(_("证件号码"), max_length=40, blank=True)
    name = models.CharField(_("姓名"), max_length=100, blank=True)
    data = models.JSONField(default=dict)  # normalised values, as strings
    raw = models.JSONField(default=dict, blank=True)  # the cells as uploaded
    import_issues = models.JSONField(default=list, blank=True)
    audit_status = models.CharField(max_length=10, choices=AuditStatus.choices, blank=True)
    audit_issues = models.JSONField(default=list, blank=True)
    clerk_reason = models.CharField(_("审核人员标记失败原因"), max_length=500, blank=True)
    applied = models.BooleanField(default=False)
    photo = models.BinaryField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["row_no", "id"]
        indexes = [
            models.Index(fields=["transaction", "status", "row_no"], name="item_tx_status_row"),
            models.Index(fields=["transaction", "audit_status", "row_no"], name="item_tx_audit_row"),
            # The import screen pages by row number; status columns included for index-only scans.
            models.Index(
                fields=["transaction", "row_no", "id"], include=["status", "audit_status"], name="item_tx_row_id"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.transaction_id}:{self.row_no} {self.name}".rstrip()


class Event(models.Model):
    """Append-only history of every transition and data change."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="events", verbose_name=_("业务")
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("操作人")
    )
    action = models.CharField(_("操作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("业务日志")
        verbose_name_plural = _("业务日志")

    def __str__(self) -> str:
        return f"#{self.transaction_id} {self.action} {self.from_state}→{self.to_state}"


class PersonLock(models.Model):
    """At most one open enrolment or suspension per person, across employers (DOMAIN §4).

    The unique key makes the database pick exactly one winner among concurrent requests.
    """

    id_key = models.CharField(max_length=24, unique=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="locks")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="locks")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.id_key} #{self.transaction_id}"


class DeclarationKey(models.Model):
    """At most one open declaration per person, year and business type."""

    key = models.CharField(max_length=80, unique=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="declaration_keys")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="declaration_keys")

    def __str__(self) -> str:
        return f"{self.key} #{self.transaction_id}"


class Attachment(models.Model):
    """A scanned material attached to a transaction (不见面审批), for the clerk to see beside
    the data. Checked and re-encoded by core.scans, stored in the database as photos are
    and served only through views that check the employer or the clerk's district; never
    deleted: a removed one is hidden and keeps who removed it and when."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("业务")
    )
    # The checklist entry it is for: a material's Chinese source text (a msgid of the
    # business type or an office's checklist line), or 其他材料.
    material = models.CharField(_("材料名称"), max_length=200)
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("文件大小"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    pages = models.PositiveIntegerField(_("页数"), default=1)
    data = models.BinaryField()
    preview = models.BinaryField(null=True, blank=True)  # a small JPEG of an image, for the clerk's page
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("删除人"),
    )

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("材料附件")
        verbose_name_plural = _("材料附件")
        indexes = [models.Index(fields=["transaction", "removed_at"], name="attachment_tx_removed")]

    def __str__(self) -> str:
        return f"#{self.transaction_id} {self.name}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Outbox(models.Model):
    """The transactional outbox: what happened, written in the database transaction of the change
    that caused it (workflow/outbox.py), and delivered from here after commit (the message centre;
    the API's webhooks read the same rows). `key` makes a writer's repetition a no-op."""

    key = models.CharField(_("去重键"), max_length=100, unique=True)
    kind = models.CharField(_("类别"), max_length=30)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("业务")
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("业务日志"))
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("投递时间"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("事件发件箱")
        verbose_name_plural = _("事件发件箱")
        indexes = [models.Index(fields=["delivered_at", "id"], name="outbox_undelivered")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
