"""The uploaded file of a batch: kept with its transaction, never served from a public URL."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shebao.workflow.models import Transaction


class Upload(models.Model):
    """The bytes as uploaded and what the request-time checks learnt about them.

    The worker reads the rows from here; the layout found in the request (sheet, header
    row, column of each field) is reused so both agree on what the file means.
    """

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="upload")
    filename = models.CharField(_("文件名"), max_length=255)
    kind = models.CharField(max_length=10)  # xlsx, xls, csv
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    sheet_index = models.PositiveSmallIntegerField(default=0)
    sheet_name = models.CharField(max_length=100, blank=True)
    header_row = models.PositiveIntegerField(default=1)  # 1-based row number in the sheet
    columns = models.JSONField(default=dict)  # field name -> 0-based column index
    data_rows = models.PositiveIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)  # CSV only
    delimiter = models.CharField(max_length=2, blank=True)  # CSV only
    # Serial -> id of this employer's transactions that held a person of this file (one-click open).
    lock_holders = models.JSONField(default=dict, blank=True)
    # The .zip of photos uploaded beside the file (types that take a photo), read by the
    # import job; and what became of each photo in it, in both languages of the UI.
    photos_filename = models.CharField(_("照片压缩包"), max_length=255, blank=True)
    photos = models.BinaryField(null=True, blank=True)
    photo_results = models.JSONField(default=list, blank=True)
    # 用新文件替换未提交的批次: the saved or returned batch this file replaces. Its rows' person
    # locks pass to this batch, and it is cancelled, in the commit that ends this import; a
    # file refused as a whole leaves it as it was.
    replaces = models.ForeignKey(
        Transaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replacing_uploads",
        verbose_name=_("替换的批次"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("批量上传文件")
        verbose_name_plural = _("批量上传文件")

    def __str__(self) -> str:
        return self.filename
