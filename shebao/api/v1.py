"""/api/v1/: everything an employer does on the pages, by machine (docs/api.md).

Every operation is one call of the service the page calls (shebao.workflow.services for
save, submit, withdraw and cancel; shebao.batch.services for uploads, deleted rows, the
template and the failure lists; shebao.api.services for 免费预检), for every business type
the registry knows: the type is a path parameter, its fields are listed by GET /types.
Authentication, the rate limit and Idempotency-Key are the middleware's (middleware.py);
every error is a problem details response (problems.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext_noop
from ninja import File, Form, NinjaAPI, Path, Query, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from shebao.api import problems, schemas
from shebao.api import services as api_services
from shebao.api.limits import used_today
from shebao.api.models import ApiToken
from shebao.batch import reader, sheets
from shebao.batch import services as batch
from shebao.core.converters import MAX_ID
from shebao.core.errors import ApplicationError, NotFound, PermissionDenied, in_languages, log_reference
from shebao.core.months import parse_month
from shebao.core.scans import check_uploaded_scan
from shebao.params.services import ParamSnapshot, in_effect
from shebao.web import selectors
from shebao.workflow import registry
from shebao.workflow import services as engine
from shebao.workflow.fields import FieldSpec, raw_values
from shebao.workflow.models import Item, Mode, State, Transaction
from shebao.workflow.rules import CATALOGUE_VERSION, RULES, Issue, has_errors, issues_from
from shebao.workflow.status import counts as tx_counts
from shebao.workflow.status import is_final

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_DEFAULT, PAGE_MAX = 50, 200

# The answers every operation may give besides its own: documented, so that a client (and
# the schema tests) know every status an operation returns.
ERRORS = {400: schemas.Problem, 401: schemas.Problem, 404: schemas.Problem, 422: schemas.Problem, 429: schemas.Problem}
WRITE_ERRORS = {**ERRORS, 403: schemas.Problem, 409: schemas.Problem, 413: schemas.Problem}


class TokenAuth(HttpBearer):
    """Authorization: Bearer sb_…: the middleware has checked it (request.api_token)."""

    openapi_description = "接口令牌（单位管理员在「接口令牌」页面创建）/ An API token created on the 接口令牌 page."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return getattr(request, "api_token", None)


class ShebaoAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Errors are application/problem+json (RFC 9457), as they are answered."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content") or {}
                    if int(status) >= 400 and "application/json" in content:
                        answer["content"] = {problems.CONTENT_TYPE: content["application/json"]}
        return schema


api = ShebaoAPI(
    title="Shebao API",
    version="1",
    description=(
        "社会保险网上办事大厅·单位篇的接口：单位的人事、薪酬系统以令牌代单位办理页面上能办的一切业务，"
        "并可免费预检。The API for employers' HR and payroll systems: everything an employer does on "
        "the pages, by machine, with a free pre-check. Errors are RFC 9457 problem details; every POST "
        "takes an Idempotency-Key; answers are in Chinese unless Accept-Language asks for English."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


# --- errors ----------------------------------------------------------------------------------


@api.exception_handler(ApplicationError)
def _refused(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    headers = {}
    if error.extra.get("retry_after"):
        headers["Retry-After"] = str(error.extra["retry_after"])
    return problems.of_error(error, headers=headers)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
    return problems.of_msgid(
        401,
        "TOKEN_MISSING",
        gettext_noop("请在请求头 Authorization: Bearer 中提供接口令牌。"),
        headers={"WWW-Authenticate": 'Bearer realm="shebao"'},
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    """The request does not have the documented shape: which parameter, and why."""
    issues: list[dict[str, Any]] = []
    for entry in error.errors[:50]:
        where = ".".join(str(part) for part in entry.get("loc", ()) if part not in ("body", "query", "path", "form"))
        message = str(entry.get("msg", ""))
        issues.append(
            {
                "code": "REQUEST_SHAPE",
                "severity": "error",
                "field": where,
                "messages": in_languages(
                    gettext_noop("参数「%(field)s」不符合接口说明：%(error)s"), {"field": where, "error": message}
                ),
            }
        )
    messages: dict[str, str] = issues[0]["messages"] if issues else in_languages(gettext_noop("请求不符合接口说明。"))
    return problems.response(422, "REQUEST_SHAPE", messages, issues=issues)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    if error.status_code == 400:  # ninja: a body that is not JSON
        return problems.of_msgid(400, "BAD_JSON", gettext_noop("请求内容不是有效的 JSON。"))
    return problems.of_msgid(error.status_code, "HTTP_ERROR", gettext_noop("请求无法处理。"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return problems.of_msgid(404, "NOT_FOUND", gettext_noop("未找到该资源，或它不属于本单位。"))


@api.exception_handler(Exception)
def _crashed(request: HttpRequest, error: Exception) -> HttpResponse:
    ref = log_reference(log, "API %s %s raised", request.method, request.path)
    return problems.of_msgid(
        500,
        "INTERNAL_ERROR",
        gettext_noop("系统内部错误，请稍后重试。如仍出错，请联系经办机构并提供编号 %(ref)s。"),
        {"ref": ref},
    )


# --- helpers ---------------------------------------------------------------------------------


def _refusal(kind: type[ApplicationError], code: str, msgid: str) -> ApplicationError:
    """A refusal of the API's own, in both languages (its msgid is the Chinese text)."""
    return kind(msgid, code=code, messages=in_languages(msgid))


def _token(request: HttpRequest) -> ApiToken:
    return request.auth  # type: ignore[attr-defined]


def _writer(request: HttpRequest) -> ApiToken:
    token = _token(request)
    if not token.can_write:
        raise _refusal(
            PermissionDenied, "TOKEN_READ_ONLY", gettext_noop("该令牌为只读令牌，不能办理业务。请使用读写令牌。")
        )
    return token


def _actor(token: ApiToken):
    """Who the events name: the administrator who created the token."""
    return token.created_by


def _business(code: str) -> registry.BusinessType:
    business = registry.find(code)
    if business is None:
        raise _refusal(NotFound, "NOT_FOUND", gettext_noop("未找到该业务类型。"))
    return business


def _single_business(code: str) -> registry.BusinessType:
    business = _business(code)
    if not business.single:
        raise _refusal(NotFound, "NOT_FOUND", gettext_noop("该业务不支持单个办理。"))
    return business


def _tx(request: HttpRequest, tx_id: int, **filters: Any) -> Transaction:
    """The token's employer's transaction; another employer's does not exist (404)."""
    tx = (
        Transaction.objects.select_related("employer", "operator")
        .filter(pk=tx_id, employer=_token(request).employer, **filters)
        .first()
    )
    if tx is None:
        raise Http404
    return tx


def _issues(data: Any, row: int | None = None) -> list[dict]:
    out = []
    for issue in issues_from([d for d in data or [] if isinstance(d, dict) and isinstance(d.get("code"), str)]):
        out.append(problems.issue_json(issue, row))
    return out


def _label(value: Any) -> str:
    with translation.override(problems.REQUESTED.get()):
        return str(value)


def _item_json(item: Item) -> dict:
    return {
        "id": item.pk,
        "row": item.row_no,
        "status": item.status,
        "audit_status": item.audit_status,
        "id_number": item.id_number,
        "name": item.name,
        "applied": item.applied,
        "data": item.data or {},
        "issues": _issues([*(item.import_issues or []), *(item.audit_issues or [])], item.row_no),
    }


def _tx_json(tx: Transaction, *, row: bool = True, notes: list[str] | None = None) -> dict:
    out: dict[str, Any] = {
        "id": tx.pk,
        "serial": tx.serial or "",
        "business_type": tx.business_type,
        "mode": tx.mode,
        "state": tx.state,
        "state_label": _label(State(tx.state).label),
        "version": tx.version,
        "returned": tx.returned,
        "final": is_final(tx),
        "header": tx.header or {},
        "counts": tx_counts(tx),
        "progress": {"done": tx.progress_done, "total": tx.progress_total},
        "reasons": _issues(tx.return_reasons),
        "notes": notes or [],
        "created_at": tx.created_at,
        "saved_at": tx.saved_at,
        "submitted_at": tx.submitted_at,
        "finished_at": tx.finished_at,
        "row": None,
    }
    if row and tx.mode == Mode.SINGLE:
        item = Item.objects.filter(transaction=tx, row_no=1).defer("photo").first()
        out["row"] = _item_json(item) if item else None
    return out


def _cursor(values: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def _page(query, limit: int, key: Callable[[Any], tuple]) -> tuple[list, str | None]:
    """A page of `limit` rows, and the cursor of the next page (None on the last): `key` is
    what the query orders by, read from the page's last row."""
    page = list(query[: limit + 1])
    return page[:limit], _cursor(key(page[limit - 1])) if len(page) > limit else None


def _uncursor(cursor: str, size: int) -> list[int] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (
            isinstance(values, list)
            and len(values) == size
            and all(type(v) is int and 0 <= v <= MAX_ID for v in values)
        ):
            return values
    except (ValueError, TypeError):
        pass
    raise _refusal(ApplicationError, "BAD_CURSOR", gettext_noop("cursor 无效，请使用上一页返回的 next_cursor。"))


def _field_json(spec: FieldSpec) -> dict:
    choices = []
    if spec.choices is not None:
        for code, label in spec.choices.choices:
            with translation.override("en"):
                english = str(label)
            with translation.override("zh-hans"):
                chinese = str(label)
            choices.append({"code": str(code), "label": chinese, "label_en": english})
    with translation.override("en"):
        label_en, help_text = str(spec.label), str(spec.help_for("api"))
    return {
        "name": spec.name,
        "label": spec.msgid,
        "label_en": label_en,
        "kind": spec.kind,
        "required": spec.required,
        "max_length": spec.max_length,
        "default": spec.default,
        "help": help_text,
        "choices": choices,
        "in_template": spec.in_template,
    }


def _located(tx: Transaction, status: int) -> HttpResponse:
    """201 Created (保存) or 202 Accepted (a batch, imported in the background): the
    transaction, and where to poll it."""
    content = schemas.TransactionOut.model_validate(_tx_json(tx)).model_dump_json(by_alias=True)
    response = HttpResponse(content, status=status, content_type="application/json")
    response["Location"] = reverse("api-v1:transaction", kwargs={"tx_id": tx.pk})
    return response


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(filename)}"
    return response


def _header_json(text: str) -> dict:
    """A multipart form's header field: a JSON object (field name → value)."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _refusal(ApplicationError, "BAD_HEADER", gettext_noop("header 应为 JSON 对象（字段名: 值）。"))
    return value


def _refuse_header(business: registry.BusinessType, header: dict) -> dict:
    """The header checked by the type's header rules: its values, or a 422 naming each error."""
    result = batch.check_header(business, header)
    if has_errors(result.issues):
        raise _IssuesRefused(422, [(i, None) for i in result.issues])
    return result.data


class _IssuesRefused(Exception):
    def __init__(self, status: int, issues: list[tuple[Issue, int | None]]) -> None:
        super().__init__("issues")
        self.status, self.issues = status, issues


@api.exception_handler(_IssuesRefused)
def _issues_refused(request: HttpRequest, error: _IssuesRefused) -> HttpResponse:
    return problems.of_issues(error.status, error.issues)


# --- the catalogue -----------------------------------------------------------------------------

catalogue = Router(tags=["目录 Catalogue"], by_alias=True)


@catalogue.get("/me", response={200: schemas.TokenOut, **ERRORS}, summary="The token and its employer")
def me(request: HttpRequest) -> dict:
    token = _token(request)
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "employer": token.employer.name,
        "employer_code": token.employer.number,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "rate_per_minute": settings.SHEBAO_API_RATE_PER_MINUTE,
        "validate_per_day": settings.SHEBAO_API_VALIDATE_PER_DAY,
        "validate_used_today": used_today(token),
    }


@catalogue.get("/types", response={200: list[schemas.TypeOut], **ERRORS}, summary="Business types and their fields")
def types(request: HttpRequest) -> list[dict]:
    out = []
    for business in registry.all_types():
        with translation.override("en"):
            title_en = str(business.label)
        out.append(
            {
                "code": business.code,
                "title": business.names.title,
                "title_en": title_en,
                "single": business.single,
                "batch": business.batch,
                "review_for_ordinary": business.review_for_ordinary,
                "header_fields": [_field_json(s) for s in business.header_fields],
                "fields": [_field_json(s) for s in business.fields],
            }
        )
    return out


@catalogue.get("/rules", response={200: schemas.RulesOut, **ERRORS}, summary="The rule catalogue, in both languages")
def rule_catalogue(request: HttpRequest) -> dict:
    out = []
    for code in sorted(RULES):
        rule = RULES[code]
        out.append({"code": code, "severity": str(rule.severity), "messages": in_languages(rule.message)})
    return {"version": CATALOGUE_VERSION, "rules": out}


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


@catalogue.get("/params", response={200: schemas.ParamsOut, **ERRORS}, summary="Parameters in effect for a month")
def params_in_effect(
    request: HttpRequest, month: str = Query("", description="YYYY-MM; blank: this month.", max_length=20)
) -> dict:
    chosen = parse_month(month) if month else timezone.localdate().replace(day=1)
    if chosen is None or not dt.date(1990, 1, 1) <= chosen <= dt.date(2200, 12, 1):
        raise _refusal(
            ApplicationError, "BAD_MONTH", gettext_noop("month 应为 1990-01 至 2200-12 之间的年月（YYYY-MM）。")
        )
    values = in_effect(ParamSnapshot.load(), chosen)
    return {
        "month": chosen.strftime("%Y-%m"),
        "limits": [
            {
                "insurance_type": itype,
                "floor": _money(limits.floor if limits else None),
                "ceiling": _money(limits.ceiling if limits else None),
                "average_wage": _money(limits.average if limits else None),
                "provisional": bool(limits and limits.provisional),
                "source": row.note if row else "",
            }
            for itype, limits, row in values.limits
        ],
        "rates": [
            {
                "insurance_type": itype,
                "employer_rate": _money(row.employer_rate if row else None),
                "personal_rate": _money(row.personal_rate if row else None),
                "illustrative": bool(row and row.illustrative),
                "source": row.note if row else "",
            }
            for itype, row in values.rates
        ],
        "injury": [
            {"risk_class": risk, "rate": _money(row.rate if row else None), "source": row.note if row else ""}
            for risk, row in values.injury
        ],
        "retirement": [
            {
                "category": category,
                "original_age_years": rule.original_age_years if rule else None,
                "reform_start": rule.reform_start.isoformat() if rule and rule.reform_start else None,
                "retires_in": retires.strftime("%Y-%m") if retires else None,
            }
            for category, rule, retires in values.retirement
        ],
        "settings": [
            {"key": key, "value": _money(value), "source": row.note if row else ""}
            for key, value, row in values.settings
        ],
    }


# --- transactions ------------------------------------------------------------------------------

transactions = Router(tags=["业务 Transactions"], by_alias=True)


@transactions.get("/transactions", response={200: schemas.TransactionPage, **ERRORS}, summary="List transactions")
def transaction_list(
    request: HttpRequest,
    business_type: str = Query("", max_length=40),
    state: str = Query(
        "", description="importing, saved, returned, auditing, review, finished, cancelled", max_length=20
    ),
    mode: str = Query("", description="single or batch", max_length=10),
    serial: str = Query("", description="流水号 or its start", max_length=24),
    created_from: dt.date | None = Query(None),
    created_to: dt.date | None = Query(None),
    cursor: str = Query("", max_length=200),
    limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
) -> dict:
    query = Transaction.objects.filter(employer=_token(request).employer)
    if business_type:
        query = query.filter(business_type=business_type)
    if state:
        query = query.filter(state=state)
    if mode:
        query = query.filter(mode=mode)
    if serial:
        query = query.filter(serial__startswith=serial.strip())
    tz = timezone.get_current_timezone()
    if created_from and created_from > dt.date(1900, 1, 1):
        query = query.filter(
            created_at__gte=dt.datetime.combine(min(created_from, dt.date(2200, 12, 31)), dt.time.min, tz)
        )
    if created_to and created_to < dt.date(2200, 12, 31):
        query = query.filter(
            created_at__lt=dt.datetime.combine(
                max(created_to, dt.date(1900, 1, 1)) + dt.timedelta(days=1), dt.time.min, tz
            )
        )
    after = _uncursor(cursor, 1)
    if after is not None:
        query = query.filter(pk__lt=after[0])
    page, next_cursor = _page(query.order_by("-id"), limit, lambda tx: (tx.pk,))
    return {"items": [_tx_json(tx, row=False) for tx in page], "next_cursor": next_cursor}


@transactions.get(
    "/transactions/{tx_id}",
    response={200: schemas.TransactionOut, **ERRORS},
    url_name="transaction",
    summary="One transaction",
)
def transaction_get(request: HttpRequest, tx_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    return _tx_json(_tx(request, tx_id))


@transactions.post(
    "/{business_type}/transactions",
    response={201: schemas.TransactionOut, **WRITE_ERRORS},
    summary="保存: create a single transaction",
)
def transaction_create(request: HttpRequest, business_type: str, body: schemas.SingleIn) -> HttpResponse:
    token = _writer(request)
    return _located(_save(token, _single_business(business_type), body), 201)


def _save(
    token: ApiToken,
    business: registry.BusinessType,
    body: schemas.SingleIn | schemas.SingleUpdate,
    tx: Transaction | None = None,
    version: int | None = None,
) -> Transaction:
    """保存 of a single (a new one, or `tx` at `version`): the saved transaction, or
    422 naming the rules that refused it (409 when a person is locked by another)."""
    result = engine.transaction_save_single(
        employer=token.employer,
        actor=_actor(token),
        business_type=business.code,
        raw=_known_fields(business, body.row),
        header=raw_values(business.header_fields, body.header),
        tx=tx,
        version=version,
    )
    if not result.ok:
        raise _IssuesRefused(422 if result.lock is None else 409, [(i, None) for i in result.issues])
    assert result.transaction is not None
    return result.transaction


UNKNOWN_FIELDS = gettext_noop("含有该业务没有的字段：%(fields)s。字段名见 GET /api/v1/types。")


def _known_fields(business: registry.BusinessType, row: dict) -> dict:
    """A single row's values; a name that is no field of the type is refused, naming it (a
    typo would otherwise be a field left empty)."""
    unknown = sorted(str(name) for name in row if name not in {spec.name for spec in business.fields})
    if unknown:
        params = {"fields": "、".join(unknown[:10])}
        raise ApplicationError(
            UNKNOWN_FIELDS % params, code="UNKNOWN_FIELD", messages=in_languages(UNKNOWN_FIELDS, params)
        )
    return dict(row)


@transactions.put(
    "/transactions/{tx_id}",
    response={200: schemas.TransactionOut, **WRITE_ERRORS},
    summary="保存: update a single transaction",
)
def transaction_update(
    request: HttpRequest, body: schemas.SingleUpdate, tx_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict:
    token = _writer(request)
    tx = _tx(request, tx_id)
    if tx.mode != Mode.SINGLE:
        raise _refusal(
            ApplicationError,
            "NOT_SINGLE",
            gettext_noop("批量业务不能整体修改：请删除人员（POST …/items/delete）或重新上传。"),
        )
    return _tx_json(_save(token, _single_business(tx.business_type), body, tx, body.version))


@transactions.post(
    "/transactions/{tx_id}/submit", response={200: schemas.TransactionOut, **WRITE_ERRORS}, summary="提交审批"
)
def transaction_submit(request: HttpRequest, body: schemas.VersionIn, tx_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    token = _writer(request)
    tx = engine.transaction_submit(tx=_tx(request, tx_id), actor=_actor(token), version=body.version)
    business = registry.find(tx.business_type)
    notes = business.submit_notes(tx) if business else []
    return _tx_json(tx, notes=[str(n) for n in notes])


@transactions.post(
    "/transactions/{tx_id}/withdraw", response={200: schemas.TransactionOut, **WRITE_ERRORS}, summary="撤回"
)
def transaction_withdraw(
    request: HttpRequest, body: schemas.VersionIn, tx_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict:
    token = _writer(request)
    return _tx_json(engine.transaction_withdraw(tx=_tx(request, tx_id), actor=_actor(token), version=body.version))


@transactions.post(
    "/transactions/{tx_id}/cancel", response={200: schemas.TransactionOut, **WRITE_ERRORS}, summary="退单"
)
def transaction_cancel(request: HttpRequest, body: schemas.VersionIn, tx_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    token = _writer(request)
    return _tx_json(engine.transaction_cancel(tx=_tx(request, tx_id), actor=_actor(token), version=body.version))


@transactions.get(
    "/transactions/{tx_id}/items", response={200: schemas.ItemPage, **ERRORS}, summary="A transaction's rows"
)
def item_list(
    request: HttpRequest,
    tx_id: int = Path(..., ge=1, le=MAX_ID),
    status: str = Query("", description="imported, import_failed or deleted", max_length=20),
    audit_status: str = Query("", description="pending, passed or failed", max_length=20),
    cursor: str = Query("", max_length=200),
    limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
) -> dict:
    tx = _tx(request, tx_id)
    query = Item.objects.filter(transaction=tx).defer("photo")
    if status:
        query = query.filter(status=status)
    if audit_status:
        query = query.filter(audit_status=audit_status)
    after = _uncursor(cursor, 2)
    if after is not None:
        query = query.filter(Q(row_no__gt=after[0]) | Q(row_no=after[0], pk__gt=after[1]))
    page, next_cursor = _page(query.order_by("row_no", "id"), limit, lambda item: (item.row_no, item.pk))
    return {"items": [_item_json(i) for i in page], "next_cursor": next_cursor}


@transactions.post(
    "/transactions/{tx_id}/items/delete",
    response={200: schemas.TransactionOut, **WRITE_ERRORS},
    summary="删除 rows of a batch",
)
def item_delete(request: HttpRequest, body: schemas.DeleteRowsIn, tx_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    token = _writer(request)
    tx = _tx(request, tx_id, mode=Mode.BATCH)
    return _tx_json(batch.batch_delete_rows(tx=tx, actor=_actor(token), version=body.version, item_ids=body.item_ids))


@transactions.post(
    "/transactions/{tx_id}/attachments",
    response={201: schemas.AttachmentOut, **WRITE_ERRORS},
    summary="上传材料 (a PDF, JPEG or PNG scan)",
)
def attachment_add(
    request: HttpRequest,
    tx_id: int = Path(..., ge=1, le=MAX_ID),
    material: str = Form(..., max_length=200),
    file: UploadedFile = File(...),
) -> tuple[int, dict]:
    token = _writer(request)
    tx = _tx(request, tx_id)
    scan = check_uploaded_scan(
        file, max_bytes=settings.SHEBAO_ATTACHMENT_MAX_BYTES, max_pages=settings.SHEBAO_ATTACHMENT_MAX_PAGES
    )
    attachment = engine.attachment_add(tx=tx, actor=_actor(token), material=material, scan=scan)
    return 201, {
        "id": attachment.pk,
        "material": attachment.material,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


# --- batches -----------------------------------------------------------------------------------

batches = Router(tags=["批量 Batches"], by_alias=True)


@batches.get("/{business_type}/template", response={200: None, **ERRORS}, summary="模板下载 (xlsx)")
def template(request: HttpRequest, business_type: str) -> HttpResponse:
    business = batch.batch_business(business_type)
    return _xlsx(batch.template_file(business, _token(request).employer), f"{business.names.title}批量导入模板.xlsx")


@batches.post(
    "/{business_type}/batches",
    response={202: schemas.TransactionOut, **WRITE_ERRORS},
    summary="批量办理 with JSON rows",
)
def batch_rows(request: HttpRequest, business_type: str, body: schemas.RowsIn) -> HttpResponse:
    token = _writer(request)
    business = batch.batch_business(business_type)
    header = _refuse_header(business, body.header)
    content = batch.json_file(business, batch.json_rows(business, body.rows))
    tx = batch.batch_upload(
        employer=token.employer,
        actor=_actor(token),
        business_type=business.code,
        filename="rows.csv",
        data=content,
        header=header,
    )
    return _located(tx, 202)


@batches.post(
    "/{business_type}/batches/file",
    response={202: schemas.TransactionOut, **WRITE_ERRORS},
    summary="批量办理 with a spreadsheet file",
)
def batch_file(
    request: HttpRequest,
    business_type: str,
    file: UploadedFile = File(..., description="xlsx, xls or csv in the template's layout"),
    header: str = Form("{}", description='The header fields as a JSON object, e.g. {"year": "2026"}', max_length=2000),
) -> HttpResponse:
    token = _writer(request)
    business = batch.batch_business(business_type)
    values = _refuse_header(business, _header_json(header))
    data = _file_bytes(file)
    tx = batch.batch_upload(
        employer=token.employer,
        actor=_actor(token),
        business_type=business.code,
        filename=file.name or "",
        data=data,
        header=values,
    )
    return _located(tx, 202)


def _file_bytes(file: UploadedFile) -> bytes:
    limit = settings.SHEBAO_UPLOAD_MAX_BYTES
    if (file.size or 0) > limit:
        raise reader.FileRefused("FILE_TOO_LARGE", size=reader._mb(file.size or 0), max=reader._mb(limit))
    return file.read(limit + 1)


@batches.get(
    "/transactions/{tx_id}/failures/{kind}",
    response={200: schemas.FailureList, **ERRORS},
    summary="导入失败人员列表 (kind=import) / 审核失败人员列表 (kind=audit)",
)
def failures(request: HttpRequest, kind: str, tx_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    tx = _tx(request, tx_id, mode=Mode.BATCH)
    rows = []
    for item in batch.failure_items(tx, kind):
        issues = item.import_issues if kind == "import" else item.audit_issues
        rows.append({"row": item.row_no, "cells": item.raw or {}, "issues": _issues(issues, item.row_no)})
    return {"kind": kind, "rows": rows}


@batches.get(
    "/transactions/{tx_id}/failures/{kind}/xlsx",
    response={200: None, **ERRORS},
    summary="The failure list as the template's xlsx",
)
def failures_xlsx(request: HttpRequest, kind: str, tx_id: int = Path(..., ge=1, le=MAX_ID)) -> HttpResponse:
    tx = _tx(request, tx_id, mode=Mode.BATCH)
    business = batch.batch_business(tx.business_type)
    items = batch.failure_items(tx, kind)
    title = batch.FAILURE_KINDS[kind]
    handle, _count = sheets.write_failure_list(business, items, audit=kind == "audit", title=title)
    with handle:
        content = handle.read()
    return _xlsx(content, f"{title}_{tx.serial}.xlsx")


# --- 免费预检 -----------------------------------------------------------------------------------


def _checked_json(checked: batch.Checked) -> dict:
    return {
        "business_type": checked.business.code,
        "total": checked.total,
        "failed": checked.failed,
        "warned": checked.warned,
        "header_issues": [problems.issue_json(i) for i in checked.header_issues],
        "rows": [
            {"row": row.row_no, "issues": [problems.issue_json(i, row.row_no) for i in row.issues]}
            for row in checked.rows
            if row.issues
        ],
        "saved": False,
    }


@batches.post(
    "/{business_type}/validate",
    response={200: schemas.ValidateOut, **ERRORS, 413: schemas.Problem},
    summary="免费预检 of JSON rows",
)
def validate(request: HttpRequest, business_type: str, body: schemas.RowsIn) -> dict:
    token = _token(request)
    checked = api_services.validate(
        employer=token.employer,
        business_type=business_type,
        header=body.header,
        rows=body.rows,
        token=token,
    )
    return _checked_json(checked)


@batches.post(
    "/{business_type}/validate/file",
    response={200: schemas.ValidateOut, **ERRORS, 413: schemas.Problem},
    summary="免费预检 of a file",
)
def validate_file(
    request: HttpRequest,
    business_type: str,
    file: UploadedFile = File(...),
    header: str = Form("{}", max_length=2000),
) -> dict:
    token = _token(request)
    checked = api_services.validate(
        employer=token.employer,
        business_type=business_type,
        header=_header_json(header),
        data=_file_bytes(file),
        token=token,
    )
    return _checked_json(checked)


# --- the register --------------------------------------------------------------------------------

register = Router(tags=["参保 Register"], by_alias=True)


@register.get("/persons", response={200: schemas.PersonPage, **ERRORS}, summary="参保人员 of the employer")
def persons(
    request: HttpRequest,
    q: str = Query("", description="姓名 or the start of 证件号码", max_length=50),
    status: str = Query("", description="contributing, suspended or terminated", max_length=20),
    cursor: str = Query("", max_length=200),
    limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
) -> dict:
    employer = _token(request).employer
    query = selectors.employer_persons(employer, q, status).order_by("id")
    after = _uncursor(cursor, 1)
    if after is not None:
        query = query.filter(pk__gt=after[0])
    page, next_cursor = _page(query, limit, lambda person: (person.pk,))  # annotated by the selectors
    selectors.attach_relations(page, employer)
    return {
        "items": [
            {
                "id": p.pk,
                "id_type": p.id_type,
                "id_number": p.id_number,
                "name": p.name,
                "sex": p.sex,
                "birth_date": p.birth_date,
                "status": p.here_status,
                "insurance_types": p.insurance_types,
                "start_month": p.start_month,
                "end_month": p.end_month,
                "base": _money(p.base),
                "base_year": p.base_year,
            }
            for p in page
        ],
        "next_cursor": next_cursor,
    }


@register.get("/retirees", response={200: schemas.RetireePage, **ERRORS}, summary="退休人员 declared by the employer")
def retirees(
    request: HttpRequest,
    q: str = Query("", max_length=50),
    cursor: str = Query("", max_length=200),
    limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
) -> dict:
    query = selectors.employer_retirees(_token(request).employer, q).order_by("id")
    after = _uncursor(cursor, 1)
    if after is not None:
        query = query.filter(pk__gt=after[0])
    page, next_cursor = _page(query, limit, lambda retiree: (retiree.pk,))
    return {
        "items": [
            {
                "id": r.pk,
                "person_id": r.person_id,
                "id_number": r.person.id_number,
                "name": r.person.name,
                "kind": r.kind,
                "retire_month": r.retire_month,
                "pension_start": r.pension_start,
                "contribution_months": r.contribution_months,
                "deemed_months": r.deemed_months,
                "transaction_id": r.transaction_id,
                "benefits": [
                    {"item": b.item, "monthly": str(b.monthly), "start_month": b.start_month} for b in r.benefits.all()
                ],
                "monthly_total": str(sum((b.monthly for b in r.benefits.all()), Decimal("0.00"))),
            }
            for r in page
        ],
        "next_cursor": next_cursor,
    }


api.add_router("/", catalogue)
api.add_router("/", transactions)
api.add_router("/", batches)
api.add_router("/", register)
