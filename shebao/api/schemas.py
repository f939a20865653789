"""The API's request and response shapes (pydantic, through django-ninja): the OpenAPI
document is generated from these. Row values are objects of the type's field names (listed by
GET /api/v1/types), so no shape here names a business type."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class Messages(Schema):
    zh_hans: str = Field(..., alias="zh-hans")
    en: str

    model_config = {"populate_by_name": True}


class IssueOut(Schema):
    code: str = Field(..., description="The rule's stable code (GET /api/v1/rules).")
    severity: str = Field(..., description="error: refuses; warning: a note that does not refuse.")
    field: str = Field("", description="The field the rule is about (a field name of GET /api/v1/types).")
    row: int | None = Field(
        None, description="The row number: the file's row; for JSON rows, the position in the list plus one."
    )
    messages: Messages


class Problem(Schema):
    """RFC 9457 problem details: every error of the API."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    messages: Messages
    issues: list[IssueOut] = []


class ChoiceOut(Schema):
    code: str
    label: str
    label_en: str


class FieldOut(Schema):
    name: str
    label: str = Field(..., description="The Chinese label: the template's column title.")
    label_en: str
    kind: str
    required: bool
    max_length: int
    default: str
    help: str
    choices: list[ChoiceOut] = []
    in_template: bool


class TypeOut(Schema):
    code: str
    title: str
    title_en: str
    single: bool = Field(..., description="Created one at a time: POST /api/v1/{business_type}/transactions.")
    batch: bool = Field(..., description="Uploaded as a batch: POST /api/v1/{business_type}/batches.")
    review_for_ordinary: bool
    header_fields: list[FieldOut]
    fields: list[FieldOut]


class RuleOut(Schema):
    code: str
    severity: str
    messages: Messages = Field(..., description="The message templates; {label} is the field's label.")


class RulesOut(Schema):
    version: str
    rules: list[RuleOut]


class Counts(Schema):
    total: int
    imported: int
    import_failed: int
    passed: int
    failed: int
    applied: int


class Progress(Schema):
    done: int
    total: int


class ItemOut(Schema):
    id: int
    row: int
    status: str = Field(..., description="imported, import_failed or deleted.")
    audit_status: str = Field(..., description="'', pending, passed or failed.")
    id_number: str
    name: str
    applied: bool
    data: dict[str, Any]
    issues: list[IssueOut]


class TransactionOut(Schema):
    id: int
    serial: str
    business_type: str
    mode: str = Field(..., description="single or batch.")
    state: str = Field(..., description="importing, saved, returned, auditing, review, finished or cancelled.")
    state_label: str
    version: int = Field(..., description="Send it back with submit, withdraw, cancel and updates.")
    returned: bool
    final: bool = Field(..., description="False while the import or the audit runs: poll until true.")
    header: dict[str, Any]
    counts: Counts
    progress: Progress
    reasons: list[IssueOut] = Field(..., description="回退原因 of the current return.")
    notes: list[str] = []
    created_at: dt.datetime
    saved_at: dt.datetime | None
    submitted_at: dt.datetime | None
    finished_at: dt.datetime | None
    row: ItemOut | None = Field(None, description="A single transaction's row.")


class TransactionPage(Schema):
    items: list[TransactionOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null: the last page.")


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None = None


class FailureRow(Schema):
    row: int
    cells: dict[str, Any] = Field(..., description="The row's cells as uploaded.")
    issues: list[IssueOut]


class FailureList(Schema):
    kind: str
    rows: list[FailureRow]


class SingleIn(Schema):
    header: dict[str, Any] = Field(default_factory=dict, description="The type's header fields, e.g. the year.")
    row: dict[str, Any] = Field(..., description="Field name → value, as GET /api/v1/types lists them.")


class SingleUpdate(SingleIn):
    version: int = Field(..., ge=1, le=2**31)


class VersionIn(Schema):
    version: int = Field(..., ge=1, le=2**31)


class DeleteRowsIn(Schema):
    version: int = Field(..., ge=1, le=2**31)
    item_ids: list[int] = Field(..., min_length=1, max_length=100_000)


class RowsIn(Schema):
    header: dict[str, Any] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(
        ...,
        description="Field name → value per row. Rows are numbered as in the template, from 2 (row 1 holds the "
        "titles): the first object is row 2, in validate's answer and in the batch it becomes alike.",
    )


class CheckedRowOut(Schema):
    row: int
    issues: list[IssueOut]


class ValidateOut(Schema):
    business_type: str
    total: int
    failed: int = Field(..., description="Rows with at least one error.")
    warned: int = Field(..., description="Rows with warnings only.")
    header_issues: list[IssueOut]
    rows: list[CheckedRowOut] = Field(..., description="The rows with issues, in row order.")
    saved: bool = Field(False, description="Always false: validate stores nothing.")


class PersonOut(Schema):
    id: int
    id_type: str
    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    status: str = Field(..., description="Here: contributing, suspended or terminated.")
    insurance_types: list[str]
    start_month: dt.date | None
    end_month: dt.date | None
    base: str | None = Field(None, description="The latest year's contribution base here.")
    base_year: int | None = None


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None = None


class BenefitOut(Schema):
    item: str
    monthly: str
    start_month: dt.date


class RetireeOut(Schema):
    id: int
    person_id: int
    id_number: str
    name: str
    kind: str
    retire_month: dt.date
    pension_start: dt.date
    contribution_months: int
    deemed_months: int
    transaction_id: int | None
    benefits: list[BenefitOut]
    monthly_total: str


class RetireePage(Schema):
    items: list[RetireeOut]
    next_cursor: str | None = None


class TokenOut(Schema):
    name: str
    prefix: str
    scope: str
    employer: str
    employer_code: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    rate_per_minute: int
    validate_per_day: int
    validate_used_today: int


class AttachmentOut(Schema):
    id: int
    material: str
    name: str
    size: int
    content_type: str


class ParamsOut(Schema):
    month: str
    limits: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    injury: list[dict[str, Any]]
    retirement: list[dict[str, Any]]
    settings: list[dict[str, Any]]
