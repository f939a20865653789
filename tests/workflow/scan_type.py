"""A business type of the test suite that asks for an attached material (不见面审批), so the
attachment tests depend on no real business module: every row needs 「单位申请书（加盖公章）」
when a clerk reviews; a row with special=1 makes even a VIP employer's go to a clerk."""

from __future__ import annotations

import io

import pytest
from django.utils.translation import gettext_noop
from PIL import Image
from pypdf import PdfWriter

from shebao.core.choices import IdType
from shebao.workflow import registry
from shebao.workflow.fields import FieldSpec
from shebao.workflow.models import Transaction
from shebao.workflow.registry import BusinessType, Names
from tests.factories import OperatorFactory, TransactionFactory, make_resident_id

CODE = "scan_check"
REQUIRED = "单位申请书（加盖公章）"
CHECKLIST = "经办人身份证复印件"


class ScanCheck(BusinessType):
    code = CODE
    names = Names(title=gettext_noop("材料测试业务"), result_query=gettext_noop("材料测试业务审核结果查询"))
    fields = [
        FieldSpec("id_type", gettext_noop("证件类型"), "id_type", True, IdType, default="01"),
        FieldSpec("id_number", gettext_noop("证件号码"), "id_number", True, text_format=True),
        FieldSpec("name", gettext_noop("姓名"), "name", True, max_length=50),
    ]
    materials = [CHECKLIST]
    review_for_ordinary = True
    batch = True

    def required_materials(self, tx, items):
        return [REQUIRED]

    def review_reasons(self, tx, items, ctx):
        return ["特殊情形"] if any(item.data.get("special") == "1" for item in items) else []

    def apply(self, tx, items, ctx):
        pass


@pytest.fixture
def scan_type(db):
    registry.register(ScanCheck)
    yield registry.get(CODE)
    registry.unregister(CODE)


def saved_tx(employer, operator=None, **data) -> Transaction:
    """A saved single transaction of the test type, by an operator of the employer."""
    operator = operator or OperatorFactory(employer=employer)
    row = {"id_type": "01", "id_number": make_resident_id(), "name": "张三", **data}
    return TransactionFactory(employer=employer, operator=operator, business_type=CODE, rows=[row])


# --- files -----------------------------------------------------------------------------------


def png(width: int = 800, height: int = 1100, colour=(250, 250, 250)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 800, height: int = 1100) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((width, height), 30).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def pdf(pages: int = 2, *, password: str = "", script: bool = False) -> bytes:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if script:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
        )
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
