"""Background PDF exports of big batches, in numbered parts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.workflow.models import Transaction


class ExportJob(models.Model):
    """One PDF export of a transaction as it was (fingerprint: version, rows) when asked for."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="export_jobs")
    fingerprint = models.CharField(max_length=80)
    part_size = models.PositiveIntegerField()
    parts_total = models.PositiveIntegerField(default=0)
    persons = models.PositiveIntegerField(default=0)
    wage_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        constraints = [models.UniqueConstraint(fields=["transaction", "fingerprint"], name="exportjob_tx_fp_uniq")]

    def __str__(self) -> str:
        return f"{self.transaction_id}/{self.fingerprint}"


class PartStatus(models.TextChoices):
    PENDING = "pending", _("生成中")
    DONE = "done", _("已生成")


class ExportPart(models.Model):
    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    first_seq = models.PositiveIntegerField()  # 序号 of the part's first person
    item_ids = models.JSONField(default=list)  # the persons of this part, fixed when the job was made
    status = models.CharField(max_length=10, choices=PartStatus.choices, default=PartStatus.PENDING)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="exportpart_job_number_uniq")]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.number}"
