"""Writing the batch template and the failure lists, in the template's own layout.

Every cell is written as a string (xlsxwriter `strings_to_formulas=False` and
`write_string`), so a value starting with = + - @ is shown and never runs, and the list
reads back exactly as it was uploaded.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable

import xlsxwriter
from django.utils import translation

from shebao.batch.reader import INSTRUCTIONS_SHEET, required_specs, template_specs
from shebao.core import clock
from shebao.core.identity import id_check_char
from shebao.core.months import format_month
from shebao.workflow.fields import FieldSpec, zh_label
from shebao.workflow.rules import Issue, issues_from

ERROR_CODE_HEADER = "错误代码"
ERROR_TEXT_HEADER = "错误说明"
VALIDATION_ROWS = 100_001  # data validation and text format reach the row limit
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def sheet_title(business) -> str:
    return business.names.title.translate(_SHEET_FORBIDDEN)[:31] or "数据"


def zh_choice_labels(spec: FieldSpec) -> list[str]:
    with translation.override("zh-hans"):
        return spec.choice_labels()


def _zh_label_of(spec: FieldSpec, code: str) -> str:
    return zh_label(spec.choices, code) if spec.choices else code


def _example_id() -> str:
    first17 = "11010519900307123"  # born 1990-03-07, 17th digit odd: male
    return first17 + id_check_char(first17)


def example_value(spec: FieldSpec) -> str:
    """One plausible example cell per column (a business type may declare `example`)."""
    if spec.example is not None:
        return spec.example
    kind = spec.kind
    if kind == "id_type":
        return _zh_label_of(spec, spec.default or "01")
    if kind == "id_number":
        return _example_id()
    if kind == "name":
        return "张三"
    if kind in ("choice", "bool"):
        if spec.default:
            return _zh_label_of(spec, spec.default)
        labels = zh_choice_labels(spec)
        return labels[0] if labels else ""
    if kind == "insurance":
        return "养老、医疗、失业、工伤、生育"
    if kind == "month":
        return format_month(clock.current_month())
    if kind == "date":
        return "2012-07-01"
    if kind == "money":
        return "6500.00"
    if kind == "phone":
        return "13800000000"
    return ""


def allowed_values(spec: FieldSpec) -> str:
    kind = spec.kind
    if kind in ("choice", "id_type", "bool"):
        text = "、".join(zh_choice_labels(spec))
        if spec.default:
            text += f"（不填默认为“{_zh_label_of(spec, spec.default)}”）"
        return text
    if kind == "insurance":
        return "养老、医疗、失业、工伤、生育，可填多个，用顿号“、”或逗号分隔；不填表示全部五项"
    if kind == "month":
        return "年月，如 2025-03（也可写 2025/3、202503、2025年3月）"
    if kind == "date":
        return "日期，如 2025-03-01（也可写 2025/3/1、20250301）"
    if kind == "money":
        return "金额（元），最多两位小数，如 6500.00"
    if kind == "id_number":
        return "居民身份证 18 位（末位 X 大写），15 位旧号自动升位；请保持该列为文本格式"
    if kind == "name":
        return "汉字或英文字母，最多 50 个字符"
    if kind == "phone":
        return "11 位手机号或带区号的固定电话，如 027-85551234"
    return f"文本，最多 {spec.max_length} 个字符"


def _required_text(spec: FieldSpec, required: set[str]) -> str:
    if spec.name in required:
        return "是"
    if spec.required and spec.default:
        return f"是（可不填，默认“{_zh_label_of(spec, spec.default)}”）"
    return "否"


def write_template(business, rows: list[dict[str, str]] | None = None, note: str = "") -> bytes:
    """The type's template; `rows` pre-fill it (field name to text, and the type's read-only
    `template_columns` after the fields), `note` heads its 填写说明."""
    import io

    out = io.BytesIO()
    specs = template_specs(business.fields)
    extra = list(business.template_columns) if rows else []
    required = {s.name for s in required_specs(business.fields)}
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "num_format": "@"})
    head_req = book.add_format(
        {"bold": True, "bg_color": "#DCE6F1", "border": 1, "font_color": "#C00000", "num_format": "@"}
    )
    data = book.add_worksheet(sheet_title(business))
    lists = None
    for col, spec in enumerate(specs):
        width = max(10, len(spec.msgid) * 2 + 4, 20 if spec.kind in ("id_number", "text", "insurance") else 0)
        data.set_column(col, col, width, text if spec.text_format else None)
        data.write_string(0, col, spec.msgid, head_req if spec.name in required else head)
        if spec.kind in ("choice", "id_type", "bool") and spec.choices:
            labels = zh_choice_labels(spec)
            source: object = labels
            if len(",".join(labels)) > 250:  # Excel's inline list limit: use a hidden sheet
                if lists is None:
                    lists = book.add_worksheet("_lists")
                    lists.hide()
                for row, label in enumerate(labels):
                    lists.write_string(row, col, label)
                letter = xlsxwriter.utility.xl_col_to_name(col)
                source = f"=_lists!${letter}$1:${letter}${len(labels)}"
            data.data_validation(
                1,
                col,
                VALIDATION_ROWS,
                col,
                {
                    "validate": "list",
                    "source": source,
                    "error_type": "warning",
                    "error_title": spec.msgid,
                    "error_message": "请从下拉列表中选择：" + "、".join(labels)[:200],
                },
            )
    grey = book.add_format({"bold": True, "bg_color": "#EDEDED", "border": 1, "num_format": "@"})
    for offset, (_key, title) in enumerate(extra):
        data.set_column(len(specs) + offset, len(specs) + offset, max(14, len(title) * 2 + 4), text)
        data.write_string(0, len(specs) + offset, title, grey)
    for r, values in enumerate(rows or [], start=1):
        for col, spec in enumerate(specs):
            value = values.get(spec.name, "")
            if value:
                shown = _zh_label_of(spec, value) if spec.kind in ("choice", "id_type", "bool") else value
                data.write_string(r, col, str(shown), text)
        for offset, (key, _title) in enumerate(extra):
            if values.get(key):
                data.write_string(r, len(specs) + offset, str(values[key]), text)
    data.freeze_panes(1, 0)
    data.activate()

    guide = book.add_worksheet(INSTRUCTIONS_SHEET)
    wrap = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
    bold = book.add_format({"bold": True})
    guide.set_column(0, 0, 16)
    guide.set_column(1, 1, 14)
    guide.set_column(2, 2, 50)
    guide.set_column(3, 3, 50)
    guide.write_string(0, 0, f"《{business.names.title}》批量导入模板填写说明", bold)
    notes = [
        f"1. 在“{sheet_title(business)}”工作表第 1 行表头下方逐行填写，每行一人；红色列名为必填列。",
        "2. 列名须与模板一致，列的顺序可以调整，可以增加其他列（系统忽略）；不要修改或重复列名。",
        "3. 证件号码、日期、年月列请保持“文本”格式，18 位证件号码以数字格式保存会丢失末几位。",
        "4. 每个文件最多 100,000 行，文件不超过 20 MB；支持 .xlsx、.xls、.csv（UTF-8 或 GB18030）。",
        "5. 同一人员在一个文件中只能出现一次；导入失败和审核失败的人员可下载失败列表，改正后直接重新上传。"
        "原批次尚未提交审批时，上传页面选择「用新文件替换未提交的批次」，原批次自动退单，其中人员转入新批次。",
    ]
    if business.photo is not None:
        notes.append(
            "6. 需要照片的人员：照片以证件号码命名（如 420102199001011234.jpg，JPEG 或 PNG），打包为一个 .zip，"
            "在上传页面的「照片压缩包」中与本文件一起上传；也可导入后在导入页面该行点击「直接上传」。"
        )
    if note:
        notes.insert(0, note)
    for row, line in enumerate(notes, start=1):
        guide.write_string(row, 0, line)
    top = len(notes) + 2
    for col, title in enumerate(("列名", "是否必填", "可填写的值", "填写说明")):
        guide.write_string(top, col, title, head)
    for offset, spec in enumerate(specs, start=1):
        guide.write_string(top + offset, 0, spec.msgid, wrap)
        guide.write_string(top + offset, 1, _required_text(spec, required), wrap)
        guide.write_string(top + offset, 2, allowed_values(spec), wrap)
        guide.write_string(top + offset, 3, spec.help_msgid("template"), wrap)
    example_top = top + len(specs) + 2
    guide.write_string(example_top, 0, "示例（仅供参考，请在数据工作表中填写）：", bold)
    for col, spec in enumerate(specs):
        guide.write_string(example_top + 1, col, spec.msgid, head_req if spec.name in required else head)
        guide.write_string(example_top + 2, col, example_value(spec), text)
    book.close()
    return out.getvalue()


# --- failure lists -------------------------------------------------------------------------


def cell_text(value: object, spec: FieldSpec) -> str:
    """The uploaded cell back as text (an ID that became a float is written as digits)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def write_failure_list(business, items: Iterable, *, audit: bool, title: str):
    """《导入失败人员列表》/《审核失败人员列表》 into a temporary file (constant memory)."""
    specs = template_specs(business.fields)
    required = {s.name for s in required_specs(business.fields)}
    handle = tempfile.TemporaryFile()
    book = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "num_format": "@"})
    head_req = book.add_format(
        {"bold": True, "bg_color": "#DCE6F1", "border": 1, "font_color": "#C00000", "num_format": "@"}
    )
    head_err = book.add_format({"bold": True, "bg_color": "#FDE9D9", "border": 1, "num_format": "@"})
    sheet = book.add_worksheet(sheet_title(business))
    for col, spec in enumerate(specs):
        width = max(10, len(spec.msgid) * 2 + 4, 20 if spec.kind in ("id_number", "text", "insurance") else 0)
        sheet.set_column(col, col, width, text)
    sheet.set_column(len(specs), len(specs), 24, text)
    sheet.set_column(len(specs) + 1, len(specs) + 1, 80, text)
    for col, spec in enumerate(specs):
        sheet.write_string(0, col, spec.msgid, head_req if spec.name in required else head)
    sheet.write_string(0, len(specs), ERROR_CODE_HEADER, head_err)
    sheet.write_string(0, len(specs) + 1, ERROR_TEXT_HEADER, head_err)
    sheet.freeze_panes(1, 0)
    row = 0
    with translation.override("zh-hans"):
        for item in items:
            row += 1
            raw = item.raw or {}
            for col, spec in enumerate(specs):
                value = raw.get(spec.name, "")
                if value in ("", None):
                    continue
                sheet.write_string(row, col, cell_text(value, spec), text)
            issues: list[Issue] = issues_from(item.audit_issues if audit else item.import_issues)
            shown = [i for i in issues if i.is_error] or issues
            sheet.write_string(row, len(specs), "、".join(dict.fromkeys(i.code for i in shown)), text)
            sheet.write_string(row, len(specs) + 1, "\n".join(dict.fromkeys(i.message("zh-hans") for i in shown)), text)
    book.set_properties({"title": title})
    book.close()
    handle.seek(0)
    return handle, row
