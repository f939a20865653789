"""The transaction engine: one service per transition (DOMAIN §4).

Each transition is a guard, a conditional UPDATE on (state, version), an event row and
its side effects, in one database transaction. Background jobs are enqueued inside that
same transaction (django-q2's ORM broker writes its queue row through our connection), so
a job exists exactly when the state change that asks for it was committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.models import OrmQ

from shebao.core import bulk, clock
from shebao.core.errors import LANGUAGES, ApplicationError, Conflict, NotFound, log_reference
from shebao.core.identity import id_key as make_key
from shebao.core.months import add_months
from shebao.core.scans import Scan
from shebao.core.text import check_reason
from shebao.params.services import ParamSnapshot
from shebao.workflow import locks, materials, outbox, registry
from shebao.workflow.models import (
    EDITABLE_STATES,
    Attachment,
    AuditStatus,
    Event,
    Item,
    ItemStatus,
    Mode,
    State,
    Transaction,
)
from shebao.workflow.rules import Issue, errors_only, has_errors, refusal, texts

ACTION_LABELS = {
    "create": gettext_lazy("保存"),
    "save": gettext_lazy("保存"),
    "cancel": gettext_lazy("退单"),
    "submit": gettext_lazy("提交审批"),
    "audit_passed": gettext_lazy("自动审核通过"),
    "audit_returned": gettext_lazy("自动审核回退"),
    "to_review": gettext_lazy("转经办机构审核"),
    "withdraw": gettext_lazy("撤回"),
    "approve": gettext_lazy("审核通过"),
    "return": gettext_lazy("回退"),
    "expire": gettext_lazy("超期自动退单"),
    "agency_cancel": gettext_lazy("经办机构退单"),
    "finish": gettext_lazy("结束"),
    "photo": gettext_lazy("上传照片"),
    "attach": gettext_lazy("上传材料"),
    "detach": gettext_lazy("删除材料"),
    "delete_rows": gettext_lazy("删除人员"),
    "import": gettext_lazy("导入"),
    "mark_failed": gettext_lazy("标记审核失败"),
    "requeue": gettext_lazy("重新排队审核"),
    "requeue_import": gettext_lazy("重新排队导入"),
    "import_failed": gettext_lazy("导入失败（系统错误）"),
    "audit_failed": gettext_lazy("自动审核失败（系统错误）"),
}


REPLACE_LABELS = {
    "replaced": gettext_lazy("已由流水号 %(serial)s 的新文件替换（退单）"),
    "replace": gettext_lazy("替换未提交的批次 流水号 %(serial)s"),
    "replace_skipped": gettext_lazy("未替换批次 流水号 %(serial)s：该批次已提交或已退单"),
}
ATTACHMENT_LABELS = {
    "attach": gettext_lazy("上传材料「%(name)s」（%(material)s）"),
    "detach": gettext_lazy("删除材料「%(name)s」（%(material)s）"),
}
ACTION_LABELS.update(
    replaced=gettext_lazy("被新文件替换"),
    replace=gettext_lazy("替换批次"),
    replace_skipped=gettext_lazy("未能替换批次"),
)


def event_label(action: str, detail: dict | None = None) -> str:
    """What a history line calls an event. An audit or approval that finished a batch with
    failed rows says so: 自动审核通过 would read as "everyone passed"."""
    detail = detail or {}
    if action in ATTACHMENT_LABELS and detail.get("name"):  # which file, for which material
        return str(
            ATTACHMENT_LABELS[action]
            % {"name": str(detail["name"]), "material": _(str(detail.get("material") or materials.OTHER))}
        )
    if action in REPLACE_LABELS:  # 用新文件替换未提交的批次: the other batch's 流水号
        serial = str(detail.get("by") or detail.get("serial") or "")
        return str(REPLACE_LABELS[action] % {"serial": serial})
    if _count(detail.get("failed")):
        if action == "audit_passed":
            return str(_("自动审核结束（部分人员审核失败）"))
        if action == "approve":
            return str(_("审核通过（部分人员审核失败）"))
    return str(ACTION_LABELS.get(action, action))


def event_via(detail: dict | None) -> str:
    """How a person's action reached the product when not through its pages: the API token
    it came with ("经接口令牌“人事系统”"), for the history's 操作人; '' for a page."""
    via = (detail or {}).get("via")
    if not isinstance(via, dict) or not via.get("token"):
        return ""
    return str(_("经接口令牌“%(name)s”") % {"name": str(via["token"])[:100]})


def event_counts(detail: dict | None) -> str:
    """The persons an event finished with ("生效 2 人，审核失败 2 人"); '' for other events."""
    detail = detail or {}
    if "applied" not in detail:
        return ""
    applied, failed = _count(detail.get("applied")), _count(detail.get("failed"))
    if failed:
        return str(_("生效 %(a)s 人，审核失败 %(f)s 人") % {"a": applied, "f": failed})
    return str(_("生效 %(a)s 人") % {"a": applied})


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


log = logging.getLogger(__name__)

# What 退单 may leave: a draft, or an import whose job was given up (its only way out; a
# live import is left alone, it becomes a draft within minutes).
CANCELLABLE = Q(state__in=EDITABLE_STATES) | Q(state=State.IMPORTING, job_failed_at__isnull=False)


# The channel of the request being served when it is not a page: the API sets its token here
# ({"token": name, "prefix": …}) for the request, and every event a person causes records it
# as detail["via"] (the history then says the action came through that token).
VIA: ContextVar[dict | None] = ContextVar("shebao_event_via", default=None)


def log_event(
    tx: Transaction,
    *,
    actor,
    action: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    detail: dict | None = None,
) -> Event:
    """The history line of a change, and its outbox row when the change is one others are told
    about (outbox.from_event): both in the caller's database transaction."""
    via = VIA.get()
    if via is not None and actor is not None:
        detail = {**(detail or {}), "via": via}
    event = Event.objects.create(
        transaction=tx,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state or from_state,
        reason=reason,
        detail=detail or {},
    )
    outbox.from_event(tx, event)
    return event


def make_serial(tx: Transaction) -> str:
    """Date + database id: unique, readable, time ordered, and no counter row to contend on."""
    return f"{clock.date_of(tx.created_at):%Y%m%d}{tx.pk:08d}"


def transition(
    tx: Transaction,
    *,
    from_states: tuple,
    to_state: str,
    version: int | None,
    actor,
    action: str,
    reason: str = "",
    detail: dict | None = None,
    where: Q | None = None,
    **changes,
) -> Transaction:
    """Move tx from one of from_states (and matching `where`) to to_state iff nobody changed it meanwhile."""
    query = Transaction.objects.filter(pk=tx.pk, state__in=from_states)
    if where is not None:
        query = query.filter(where)
    if version is not None:
        query = query.filter(version=version)
    updated = query.update_of(tx.employer_id, state=to_state, version=F("version") + 1, **changes)
    if not updated:
        raise stale_conflict(tx)
    from_state = tx.state
    tx.refresh_from_db()
    log_event(tx, actor=actor, action=action, from_state=from_state, to_state=to_state, reason=reason, detail=detail)
    return tx


def stale_conflict(tx: Transaction) -> Conflict:
    """Say who changed it, when and how: the message a second clerk or a stale form sees."""
    last = Event.objects.filter(transaction_id=tx.pk).select_related("actor").order_by("-at", "-id").first()
    current = Transaction.objects.filter(pk=tx.pk).values_list("state", flat=True).first()
    if last is None:
        return Conflict(_("该业务已被修改，请刷新后重试。"), code="STALE")
    when = timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M:%S")
    name = (last.actor.get_full_name() or last.actor.username) if last.actor else None
    messages = {}
    for language in LANGUAGES:  # the API gives it in every language; a page shows the reader's
        with translation.override(language):
            who = name or _("系统")
            what = str(ACTION_LABELS.get(last.action, last.action))
            state = State(current).label if current else "-"
            text = _("该业务已于 %(when)s 由 %(who)s 执行“%(what)s”，当前状态：%(state)s。请刷新后查看。")
            messages[language] = text % {"when": when, "who": who, "what": what, "state": state}
    who = name or _("系统")
    reader = translation.get_language() or LANGUAGES[0]
    return Conflict(
        messages.get(reader, messages[LANGUAGES[0]]),
        code="STALE",
        extra={"who": who, "when": when, "action": last.action},
        messages=messages,
    )


# --- locks ---------------------------------------------------------------------------------
# One locking module (shebao.workflow.locks) for single entry and batch alike.

LockRefusal = locks.LockRefusal


def release_locks(tx: Transaction) -> None:
    locks.release(tx)


# --- save / cancel -------------------------------------------------------------------------


@dataclass
class SaveResult:
    transaction: Transaction | None
    issues: list[Issue]
    lock: LockRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.transaction is not None


def transaction_save_single(
    *,
    employer,
    actor,
    business_type: str,
    raw: dict,
    header: dict | None = None,
    tx: Transaction | None = None,
    version: int | None = None,
    params: ParamSnapshot | None = None,
) -> SaveResult:
    """保存: create a single transaction or update a saved/returned one.

    The header (the type's `header_fields`, e.g. 申报年度) and the row are checked first;
    with an error nothing is written and the form shows why. The row then takes the lock its
    business type holds (the person, or a declaration key).
    """
    business = registry.get(business_type)
    params = params or ParamSnapshot.load()
    head = business.check_header(header or {}, params) if business.header_fields else None
    header_data = head.data if head else {}
    # The row's rules see the header's values, as in a batch import (e.g. the declared year).
    result = registry.check_row_safely(business, {**header_data, **raw}, params, employer, where="save")
    registry.check_known_rows_safely(business, [result], employer, where="save")
    issues = [*(head.issues if head else []), *result.issues]
    if has_errors(issues):
        return SaveResult(None, issues)
    data = result.data
    warnings = [issue.as_dict() for issue in issues]  # no errors here: only warnings remain
    key = make_key(data["id_type"], data["id_number"]) if data.get("id_number") else ""
    now = timezone.now()
    with transaction.atomic():
        if tx is None:
            tx = Transaction.objects.create(
                employer=employer,
                business_type=business_type,
                mode=Mode.SINGLE,
                operator=actor,
                state=State.SAVED,
                saved_at=now,
                total_count=1,
                header=header_data,
            )
            tx.serial = make_serial(tx)
            tx.save(update_fields=["serial"])
            item = Item.objects.create(
                transaction=tx,
                row_no=1,
                id_key=key,
                id_number=data.get("id_number", ""),
                name=data.get("name", ""),
                data=data,
                raw=_jsonable(raw),
                import_issues=warnings,
            )
            log_event(tx, actor=actor, action="create", to_state=State.SAVED)
        else:
            if version is None:
                # An update names the version its form was read at; without one the form
                # cannot be shown to be current (no row's version is NULL).
                raise stale_conflict(tx)
            before = tx.state
            updated = Transaction.objects.filter(pk=tx.pk, state__in=EDITABLE_STATES, version=version).update_of(
                tx.employer_id,
                version=F("version") + 1,
                saved_at=now,
                touched_at=now,
                operator=actor,
                header=header_data,
            )
            if not updated:
                raise stale_conflict(tx)
            tx.refresh_from_db()
            item = tx.items.get(row_no=1)
            old = {**(tx.header or {}), **item.data}
            changed = {k: [old.get(k, ""), v] for k, v in {**header_data, **data}.items() if old.get(k, "") != v}
            item.data, item.id_key, item.id_number, item.name = (
                data,
                key,
                data.get("id_number", ""),
                data.get("name", ""),
            )
            item.raw, item.import_issues = _jsonable(raw), warnings
            item.save(update_fields=["data", "id_key", "id_number", "name", "raw", "import_issues"])
            # A changed ID number (or year) releases what the row no longer names.
            locks.release_others(business, tx, item)
            log_event(tx, actor=actor, action="save", from_state=before, detail={"changed": changed})
        refusal = locks.take(business, tx, [item]).refused.get(item.pk)
        if refusal:
            transaction.set_rollback(True)
            return SaveResult(None, [refusal.issue], refusal)
    return SaveResult(tx, issues)


def _jsonable(raw: dict) -> dict:
    """The cells as entered, storable as JSON on every backend (PostgreSQL refuses NUL in text)."""

    def cell(value):
        if isinstance(value, dt.date):
            return value.isoformat()
        if value is None or isinstance(value, (int, float, bool)):
            return value
        return str(value).replace("\x00", "")

    return {k: cell(v) for k, v in raw.items()}


def transaction_cancel(
    *, tx: Transaction, actor, version: int | None, reason: str = "", action: str = "cancel"
) -> Transaction:
    """退单 of a draft or of an import given up: kept in history; its person locks are released."""
    with transaction.atomic():
        tx = transition(
            tx,
            from_states=(*EDITABLE_STATES, State.IMPORTING),
            where=CANCELLABLE,
            to_state=State.CANCELLED,
            version=version,
            actor=actor,
            action=action,
            reason=reason,
        )
        release_locks(tx)
    return tx


def item_set_photo(*, tx: Transaction, actor, version: int, jpeg: bytes) -> Transaction:
    with transaction.atomic():
        updated = Transaction.objects.filter(pk=tx.pk, state__in=EDITABLE_STATES, version=version).update_of(
            tx.employer_id, version=F("version") + 1, touched_at=timezone.now()
        )
        if not updated:
            raise stale_conflict(tx)
        Item.objects.filter(transaction=tx, row_no=1).update(photo=jpeg)
        tx.refresh_from_db()
        log_event(tx, actor=actor, action="photo", from_state=tx.state, detail={"bytes": len(jpeg)})
    return tx


# --- attached materials (不见面审批) ---------------------------------------------------------


def _touch_editable(tx: Transaction) -> None:
    """An upload or removal changes the transaction (its version, so that a page that showed
    other attachments cannot submit, and its draft age), only while it is editable."""
    updated = Transaction.objects.filter(pk=tx.pk, state__in=EDITABLE_STATES).update_of(
        tx.employer_id, version=F("version") + 1, touched_at=timezone.now()
    )
    if not updated:
        state = Transaction.objects.filter(pk=tx.pk).values_list("state", flat=True).first()
        raise ApplicationError(
            _("流水号 %(serial)s 当前状态为「%(state)s」，只有未提交的业务可以上传或删除材料。")
            % {"serial": tx.serial, "state": State(state).label if state else "-"},
            code="NOT_EDITABLE",
        )
    tx.refresh_from_db()


def attachment_add(*, tx: Transaction, actor, material: str, scan: Scan) -> Attachment:
    """上传材料: a checked scan (core.scans) attached for one of the offered materials, while
    the transaction is saved or returned, up to SHEBAO_ATTACHMENT_MAX_COUNT of them."""
    business = registry.get(tx.business_type)
    if material not in materials.offered(tx, business):
        raise ApplicationError(_("请选择「材料名称」。"), code="MATERIAL_CHOICE")
    limit = settings.SHEBAO_ATTACHMENT_MAX_COUNT
    with transaction.atomic():
        _touch_editable(tx)  # the row lock serialises concurrent uploads: the count holds
        count = Attachment.objects.filter(transaction=tx, removed_at__isnull=True).count()
        if count >= limit:
            raise ApplicationError(
                _("每笔业务最多上传 %(max)d 个材料文件，本业务已有 %(count)d 个。请删除不需要的文件后再上传。")
                % {"max": limit, "count": count},
                code="ATTACHMENTS_TOO_MANY",
            )
        attachment = Attachment.objects.create(
            transaction=tx,
            material=material,
            name=scan.name,
            content_type=scan.content_type,
            size=scan.size,
            sha256=scan.sha256,
            pages=scan.pages,
            data=scan.data,
            preview=scan.preview,
            uploaded_by=actor,
        )
        log_event(tx, actor=actor, action="attach", from_state=tx.state, detail=_attachment_detail(attachment))
    return attachment


def attachment_remove(*, tx: Transaction, actor, attachment_id: int) -> Attachment:
    """删除材料: hidden, never deleted (who and when are kept), while the transaction is
    editable. Removing one removed already changes nothing."""
    attachment = Attachment.objects.filter(transaction=tx, pk=attachment_id).defer("data", "preview").first()
    if attachment is None:
        raise NotFound(_("未找到该材料。"), code="NOT_FOUND")
    if attachment.removed_at is not None:
        return attachment
    with transaction.atomic():
        _touch_editable(tx)
        now = timezone.now()
        if Attachment.objects.filter(pk=attachment.pk, removed_at__isnull=True).update(
            removed_at=now, removed_by=actor
        ):
            attachment.removed_at, attachment.removed_by = now, actor
            log_event(tx, actor=actor, action="detach", from_state=tx.state, detail=_attachment_detail(attachment))
        else:  # removed by another request meanwhile: nothing changed after all
            transaction.set_rollback(True)
    return attachment


def _attachment_detail(attachment: Attachment) -> dict:
    return {
        "attachment": attachment.pk,
        "name": attachment.name,
        "material": attachment.material,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


# --- submit and the automatic audit --------------------------------------------------------


def acceptance_window_issue(params: ParamSnapshot, today: dt.date) -> Issue | None:
    first = params.setting_int("window_first_day", today)
    last = params.setting_int("window_last_day", today)
    if first <= today.day <= last:
        return None
    reopen = today.replace(day=first) if today.day < first else add_months(today.replace(day=1), 1).replace(day=first)
    return Issue("OUTSIDE_WINDOW", "", {"first": first, "last": last, "reopen": reopen.isoformat()})


def transaction_submit(*, tx: Transaction, actor, version: int) -> Transaction:
    """提交审批: saved/returned → auditing, and the audit job is queued in the same commit.

    The same submit again (a double click, a retried request) changes nothing and returns the
    transaction as it is now, however far the audit has moved it since; a submit of a
    version that someone else changed is a conflict.
    """
    business = registry.get(tx.business_type)
    if (tx.state not in EDITABLE_STATES or tx.version != version) and _submitted_from(tx, version):
        return tx
    if business.windowed and not Event.objects.filter(transaction=tx, action="submit").exists():
        issue = acceptance_window_issue(ParamSnapshot.load(), clock.today())
        if issue:
            raise refusal(issue)
    if not tx.items.filter(status=ItemStatus.IMPORTED).exists():
        raise ApplicationError(_("没有可提交的人员，请先添加或导入人员。"), code="NO_ROWS")
    # Like the window: refused before anything changes. An upload or removal meanwhile
    # changes the version, so the conditional update below refuses a submit checked
    # against attachments that are no longer those.
    lacking = materials.missing(tx, business)
    if lacking:
        issue = Issue("MATERIALS_MISSING", "", {"materials": texts(lacking)})
        raise refusal(issue, extra={"materials": lacking})
    now = timezone.now()
    try:
        with transaction.atomic():
            tx = transition(
                tx,
                from_states=EDITABLE_STATES,
                to_state=State.AUDITING,
                version=version,
                actor=actor,
                action="submit",
                detail={"version": version},
                submitted_at=now,
                touched_at=now,
                heartbeat_at=now,
                progress_done=0,
                # The persons the audit will see, from the first poll on (never "0 / 0").
                progress_total=max((tx.total_count or 0) - (tx.import_failed_count or 0), 0),
                # 回退原因 is the reason of the current return: a resubmission ends it (the
                # return and its reasons stay in the history, in the return's event).
                returned=False,
                return_reasons=[],
                job_attempts=0,
                job_failed_at=None,
                job_error="",
            )
            # Rows an earlier audit or a clerk marked (a returned transaction submitted again) wait
            # for the audit anew; rows never audited are waiting already (a first submit of a
            # 100,000-row batch rewrites nothing here).
            Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED).exclude(audit_status=NOT_AUDITED).update(
                audit_status=AuditStatus.PENDING, audit_issues=[], clerk_reason=""
            )
            enqueue_audit(tx)
    except Conflict:
        if _submitted_from(tx, version):  # the same submit, committed while this one waited
            tx.refresh_from_db()
            return tx
        raise
    return tx


def _submitted_from(tx: Transaction, version: int) -> bool:
    """Whether this version of tx was submitted already: its 提交审批 event records the version."""
    return Event.objects.filter(transaction_id=tx.pk, action="submit", detail__version=version).exists()


def enqueue_audit(tx: Transaction) -> None:
    from django_q.tasks import async_task

    queue = settings.Q_SHORT if tx.mode == Mode.SINGLE else settings.Q_LONG
    async_task("shebao.workflow.jobs.audit_job", tx.pk, cluster=queue, task_name=f"audit-{tx.serial}", group="audit")


def run_audit(tx_id: int) -> str:
    """The automatic audit. Idempotent: audited items are skipped; finishing is conditional.

    Rows are audited in chunks, each chunk committed with the progress counter, so a
    killed worker resumes where it stopped and a big batch never holds the write lock long.
    """
    tx = Transaction.objects.select_related("employer").filter(pk=tx_id).first()
    if tx is None or tx.state != State.AUDITING:
        return "skipped"
    business = registry.get(tx.business_type)
    ctx = registry.AuditContext(params=ParamSnapshot.load(), today=clock.today())
    pending = Item.objects.filter(
        transaction=tx, status=ItemStatus.IMPORTED, audit_status__in=(NOT_AUDITED, AuditStatus.PENDING)
    ).defer(*UNUSED_BY_RULES)
    total = Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED).count()
    Transaction.objects.filter(pk=tx.pk).update(progress_total=total)
    while True:
        if tx.mode == Mode.BATCH:
            yield_to_single_audits()
        chunk = list(pending.order_by("id")[: settings.SHEBAO_AUDIT_CHUNK])
        if not chunk:
            break
        last_chunk = len(chunk) < settings.SHEBAO_AUDIT_CHUNK  # rows do not change while auditing
        results = audit_chunk_safely(business, tx, chunk, ctx)
        for item in chunk:
            # Row rules again (time passes: a start month may have aged), then the register's.
            row = registry.check_row_safely(
                business, item.data, ctx.params, tx.employer, where=f"audit {tx.serial} row {item.row_no}"
            )
            issues = row.issues + results.get(item.pk, [])
            item.audit_issues = [i.as_dict() for i in issues]
            item.audit_status = AuditStatus.FAILED if has_errors(issues) else AuditStatus.PASSED
        with transaction.atomic():
            # Locking the transaction row serialises chunk writes of concurrent workers on the
            # same batch (a redelivered job beside a live one): no deadlock on the item rows.
            if not Transaction.objects.select_for_update().filter(pk=tx.pk, state=State.AUDITING).exists():
                return "skipped"
            save_audit_results(chunk)
            # The heartbeat tells the sweeper this audit is alive.
            Transaction.objects.filter(pk=tx.pk).update(
                progress_done=F("progress_done") + len(chunk), heartbeat_at=timezone.now()
            )
        if last_chunk:
            break
    if tx.mode == Mode.BATCH:
        # Every row was just rewritten: the result screen is read next (see bulk).
        bulk.refresh_statistics(Item, total)
    return finish_audit(tx, business, ctx)


def audit_chunk_safely(
    business: registry.BusinessType, tx: Transaction, chunk: list[Item], ctx: registry.AuditContext
) -> dict[int, list[Issue]]:
    """`business.audit` of a chunk; if it raises, the chunk's rows one by one, so that only the
    row it raises on fails (ROW_INTERNAL_ERROR with the reference of the logged traceback)
    and the other rows of the batch are audited as ever."""
    try:
        with _savepoint():
            return business.audit(tx, chunk, ctx)
    except Exception:
        log.warning(
            "audit %s: the register rules raised on a chunk of %d rows; auditing them one by one",
            tx.serial,
            len(chunk),
            exc_info=True,
        )
    results: dict[int, list[Issue]] = {}
    for item in chunk:
        try:
            with _savepoint():
                results[item.pk] = business.audit(tx, [item], ctx).get(item.pk, [])
        except Exception:
            ref = log_reference(
                log, "audit %s row %s: the register rules of %s raised", tx.serial, item.row_no, business.code
            )
            results[item.pk] = [Issue("ROW_INTERNAL_ERROR", "", {"ref": ref})]
    return results


def _savepoint():
    """Inside a surrounding database transaction, a query that failed would leave it unusable
    for the next row: a savepoint contains it. Outside one (the worker) nothing is needed, and
    on SQLite an atomic block would take the write lock for a read."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


# --- the background jobs' attempts ------------------------------------------------------------


def run_audit_job(tx_id: int) -> str:
    """The audit job as the worker runs it (see run_job)."""
    return run_job(tx_id, State.AUDITING, run_audit)


def run_job(tx_id: int, state: str, work: Callable[[int], str]) -> str:
    """Run the background job of a transaction in `state` (导入中 or 自动审核中), counting its
    attempts on the transaction.

    The queue does not retry a job that raised (failures are acknowledged); the sweepers
    re-queue a job whose heartbeat went silent, which is also what a failed delivery looks
    like. Counting on our own row is what lets that stop: the attempt that fails with
    attempts = SHEBAO_JOB_MAX_ATTEMPTS, or a delivery past it (earlier ones killed without a
    word, by a timeout or the kernel), gives the job up (job_fail). The error is raised on,
    so the queue's failure list has it too.
    """
    attempt = _count_attempt(tx_id, state)
    if attempt is None:
        return "skipped"
    limit = settings.SHEBAO_JOB_MAX_ATTEMPTS
    if attempt > limit:
        ref = log_reference(
            log,
            "job of transaction %s: delivery %d, the earlier ones ended without an answer; given up",
            tx_id,
            attempt,
            exc_info=False,
        )
        job_fail(
            tx_id, state, ref=ref, error=f"[{ref}] {attempt - 1} attempts ended without an answer", attempts=attempt - 1
        )
        return "failed"
    try:
        return work(tx_id)
    except Exception as error:
        ref = log_reference(log, "job of transaction %s failed (attempt %d of %d)", tx_id, attempt, limit)
        text = f"[{ref}] {type(error).__name__}: {error}"[:500]
        if attempt >= limit:
            job_fail(tx_id, state, ref=ref, error=text, attempts=attempt)
        else:
            Transaction.objects.filter(pk=tx_id).update(job_error=text)
        raise


def _count_attempt(tx_id: int, state: str) -> int | None:
    """One more delivery of the job, committed before any work; None if there is nothing to do."""
    with transaction.atomic():
        if not Transaction.objects.filter(pk=tx_id, state=state, job_failed_at__isnull=True).update(
            job_attempts=F("job_attempts") + 1
        ):
            return None
        return Transaction.objects.filter(pk=tx_id).values_list("job_attempts", flat=True).first()


def job_fail(tx_id: int, state: str, *, ref: str, error: str, attempts: int) -> bool:
    """Give a transaction's job up, in a state the user sees and can leave.

    An import stays 导入中, returned to the user with IMPORT_JOB_FAILED (shown on the batch page
    and in the task list, 业务状态 导入失败): 退单 cancels it and releases the persons it
    locked; its rows are not worth keeping, the file is uploaded again. An audit returns
    the transaction (已回退) with AUDIT_JOB_FAILED, like an audit every row of which failed:
    the user submits it again or cancels it. False if it had left `state` meanwhile.
    """
    tx = Transaction.objects.filter(pk=tx_id).first()
    if tx is None:
        return False
    now = timezone.now()
    detail = {"ref": ref, "attempts": attempts}
    with transaction.atomic():
        if state == State.IMPORTING:
            reasons = [Issue("IMPORT_JOB_FAILED", "", {"ref": ref}).as_dict()]
            if not Transaction.objects.filter(pk=tx_id, state=State.IMPORTING, job_failed_at__isnull=True).update(
                job_failed_at=now, job_error=error, returned=True, return_reasons=reasons, touched_at=now
            ):
                return False
            log_event(
                tx,
                actor=None,
                action="import_failed",
                from_state=State.IMPORTING,
                detail={**detail, "reasons": reasons},
            )
            return True
        reasons = [Issue("AUDIT_JOB_FAILED", "", {"ref": ref}).as_dict()]
        try:
            transition(
                tx,
                from_states=(state,),
                to_state=State.RETURNED,
                version=None,
                actor=None,
                action="audit_failed",
                detail={**detail, "reasons": reasons},
                returned=True,
                return_reasons=reasons,
                job_failed_at=now,
                job_error=error,
                touched_at=now,
            )
        except Conflict:
            return False
    return True


# The audit status of a row no audit has seen yet.
NOT_AUDITED = ""

# Item columns no audit rule, review reason or register effect reads: not loaded for the
# 100,000 rows of a batch (a business type that does read one still gets it, a query later).
UNUSED_BY_RULES = ("raw", "import_issues")


def save_audit_results(items: list[Item]) -> None:
    """Write the items' audit_status and audit_issues.

    Most rows share their result (passed, no issues): one UPDATE ... WHERE id IN (...) per
    distinct result; bulk_update's per-row CASE only for results held by a single row
    (the CASE over a 2,000-row chunk cost more than auditing the chunk).
    """
    import json
    from collections import defaultdict

    groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in items:
        groups[(item.audit_status, json.dumps(item.audit_issues, sort_keys=True))].append(item)
    singles = []
    for (status, _issues), members in groups.items():
        if len(members) == 1:
            singles.append(members[0])
            continue
        Item.objects.filter(pk__in=[i.pk for i in members]).update(
            audit_status=status, audit_issues=members[0].audit_issues
        )
    if singles:
        Item.objects.bulk_update(singles, ["audit_issues", "audit_status"], batch_size=1000)


def yield_to_single_audits() -> None:
    """Between two chunks of a batch, let waiting single audits go first (bounded wait).

    Single audits are a person waiting at a screen; a batch is a progress bar. On a small
    machine both compete for the same cores, so the batch steps aside while the short
    queue has work, for at most SHEBAO_BATCH_YIELD_SECONDS per chunk.
    """
    deadline = time.monotonic() + settings.SHEBAO_BATCH_YIELD_SECONDS
    while time.monotonic() < deadline:
        if not OrmQ.objects.filter(key=settings.Q_SHORT, lock__lte=timezone.now()).exists():
            return
        time.sleep(0.02)


def iter_chunks(query, size: int | None = None, *, yield_to_singles: bool = False):
    """Items of a query in id order, a chunk at a time (bounded memory at 100,000 rows)."""
    size = size or settings.SHEBAO_AUDIT_CHUNK
    last = 0
    while True:
        if yield_to_singles:
            yield_to_single_audits()
        chunk = list(query.filter(id__gt=last).order_by("id")[:size])
        if chunk:
            yield chunk
        if len(chunk) < size:
            return  # a short chunk is the last one: no query to find out
        last = chunk[-1].id


def finish_audit(tx: Transaction, business: registry.BusinessType, ctx: registry.AuditContext) -> str:
    with transaction.atomic():
        # of=("self",): lock only the transaction row. A FOR UPDATE on the joined employer row
        # would block every other save of that employer (its FK check) while a batch applies.
        tx = Transaction.objects.select_for_update(of=("self",)).select_related("employer").get(pk=tx.pk)
        if tx.state != State.AUDITING:
            return "skipped"
        imported = Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED)
        passed = imported.filter(audit_status=AuditStatus.PASSED)
        failed = imported.filter(audit_status=AuditStatus.FAILED)
        tally = imported.aggregate(
            passed=Count("id", filter=Q(audit_status=AuditStatus.PASSED)),
            failed=Count("id", filter=Q(audit_status=AuditStatus.FAILED)),
        )
        passed_count = tally["passed"]
        counts = {
            "audit_passed_count": passed_count,
            "audit_failed_count": tally["failed"],
            "progress_done": F("progress_total"),
        }
        if not passed_count:
            if tx.mode == Mode.SINGLE:
                item = failed.first()
                # Errors only: a warning (按下限核定) is an adjustment, not a reason to return.
                return_reasons = errors_only(item.audit_issues) if item else []
            else:
                return_reasons = [Issue("ALL_ROWS_FAILED").as_dict()]
            transition(
                tx,
                from_states=(State.AUDITING,),
                to_state=State.RETURNED,
                version=tx.version,
                actor=None,
                action="audit_returned",
                detail={"reasons": return_reasons},
                returned=True,
                return_reasons=return_reasons,
                **counts,
            )
            return "returned"
        reasons: list[str] = []
        if not tx.employer.is_vip and business.review_for_ordinary:
            reasons.append(_("普通单位须经经办机构审核"))
        else:
            for chunk in iter_chunks(passed.defer(*UNUSED_BY_RULES, "audit_issues")):
                reasons += [r for r in business.review_reasons(tx, chunk, ctx) if r not in reasons]
                if reasons:
                    break
        if reasons:
            transition(
                tx,
                from_states=(State.AUDITING,),
                to_state=State.REVIEW,
                version=tx.version,
                actor=None,
                action="to_review",
                reason="；".join(str(r) for r in reasons),
                needs_review=True,
                **counts,
            )
            return "review"
        apply_and_finish(tx, business, ctx, passed, actor=None, action="audit_passed", counts=counts)
        return "finished"


def apply_and_finish(
    tx: Transaction,
    business,
    ctx,
    passed,
    *,
    actor,
    action: str,
    counts: dict | None = None,
    from_states: tuple = (State.AUDITING,),
    version: int | None = None,
    reason: str = "",
) -> Transaction:
    """Apply every passing row's effect and finish, inside the caller's database transaction.

    `passed` is a query of the passing items; they are applied a chunk at a time.
    """
    applied = 0
    for chunk in iter_chunks(
        passed.defer(*UNUSED_BY_RULES, "audit_issues"),
        settings.SHEBAO_APPLY_CHUNK,
        yield_to_singles=tx.mode == Mode.BATCH,
    ):
        business.apply(tx, chunk, ctx)
        applied += len(chunk)
    passed.update(applied=True)
    release_locks(tx)
    # Both callers counted the failed rows already (the audit's tally, the clerk's count).
    failed = (counts or {}).get("audit_failed_count")
    if not isinstance(failed, int):
        failed = Item.objects.filter(
            transaction_id=tx.pk, status=ItemStatus.IMPORTED, audit_status=AuditStatus.FAILED
        ).count()
    return transition(
        tx,
        from_states=from_states,
        to_state=State.FINISHED,
        version=tx.version if version is None else version,
        actor=actor,
        action=action,
        reason=reason,
        # The history says how it ended: how many took effect, how many failed.
        detail={"applied": applied, "failed": failed},
        finished_at=timezone.now(),
        returned=False,
        applied_count=applied,
        **(counts or {}),
    )


def transaction_withdraw(*, tx: Transaction, actor, version: int) -> Transaction:
    """撤回: an employer takes back a transaction a clerk has not acted on yet."""
    with transaction.atomic():
        return transition(
            tx,
            from_states=(State.REVIEW,),
            to_state=State.SAVED,
            version=version,
            actor=actor,
            action="withdraw",
            needs_review=False,
            touched_at=timezone.now(),
        )


# --- clerk review ---------------------------------------------------------------------------


def _check_clerk(tx: Transaction, clerk) -> None:
    from shebao.accounts.models import Membership

    if not clerk.is_clerk or clerk.office_id != tx.employer.office_id:
        raise NotFound(_("未找到该业务。"), code="NOT_FOUND")
    if Membership.objects.filter(user=clerk, employer_id=tx.employer_id, active=True).exists():
        raise ApplicationError(_("不能审核本人所代理单位的业务。"), code="SEPARATION_OF_DUTIES")


def clerk_approve(*, tx: Transaction, clerk, version: int) -> Transaction:
    _check_clerk(tx, clerk)
    business = registry.get(tx.business_type)
    ctx = registry.AuditContext(params=ParamSnapshot.load(), today=clock.today())
    with transaction.atomic():
        locked = Transaction.objects.select_for_update(of=("self",)).select_related("employer").get(pk=tx.pk)
        if locked.state != State.REVIEW or locked.version != version:
            raise stale_conflict(tx)
        passed = Item.objects.filter(transaction=locked, status=ItemStatus.IMPORTED, audit_status=AuditStatus.PASSED)
        passed_count = passed.count()
        if not passed_count:
            raise ApplicationError(_("没有审核通过的人员，请回退该业务。"), code="NO_PASSED_ROWS")
        failed = Item.objects.filter(
            transaction=locked, status=ItemStatus.IMPORTED, audit_status=AuditStatus.FAILED
        ).count()
        return apply_and_finish(
            locked,
            business,
            ctx,
            passed,
            actor=clerk,
            action="approve",
            from_states=(State.REVIEW,),
            version=version,
            counts={"audit_passed_count": passed_count, "audit_failed_count": failed},
        )


def clerk_return(*, tx: Transaction, clerk, version: int, reason: str) -> Transaction:
    _check_clerk(tx, clerk)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写回退原因。"), code="REASON_REQUIRED")
    check_reason(reason, _("回退原因"))
    reasons = [Issue("CLERK_RETURNED", "", {"reason": reason[:500]}).as_dict()]
    with transaction.atomic():
        return transition(
            tx,
            from_states=(State.REVIEW,),
            to_state=State.RETURNED,
            version=version,
            actor=clerk,
            action="return",
            reason=reason,
            detail={"reasons": reasons},
            returned=True,
            return_reasons=reasons,
            needs_review=False,
            touched_at=timezone.now(),
        )


def clerk_mark_row_failed(*, tx: Transaction, clerk, item_id: int, reason: str) -> Item:
    """A clerk fails one row of a batch under review; the rest may still be approved.

    Only a row whose audit passed can be marked: the same mark posted twice (a double click,
    a second clerk) is a conflict saying who marked it, and the counters move once.
    """
    _check_clerk(tx, clerk)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写回退原因。"), code="REASON_REQUIRED")
    check_reason(reason, _("失败原因"))
    with transaction.atomic():
        # Locked like clerk_approve locks it: a row is never marked while the batch is applied.
        if not Transaction.objects.select_for_update().filter(pk=tx.pk, state=State.REVIEW).exists():
            raise stale_conflict(tx)
        item = Item.objects.filter(transaction=tx, pk=item_id, status=ItemStatus.IMPORTED).first()
        if item is None:
            raise NotFound(_("未找到该人员。"), code="NOT_FOUND")
        issues = item.audit_issues + [Issue("CLERK_MARKED_FAILED", "", {"reason": reason[:500]}).as_dict()]
        marked = Item.objects.filter(pk=item.pk, audit_status=AuditStatus.PASSED).update(
            audit_status=AuditStatus.FAILED, clerk_reason=reason[:500], audit_issues=issues
        )
        if not marked:
            raise _row_failed_already(tx, item)
        item.audit_status, item.clerk_reason, item.audit_issues = AuditStatus.FAILED, reason[:500], issues
        log_event(
            tx, actor=clerk, action="mark_failed", from_state=tx.state, reason=reason, detail={"row": item.row_no}
        )
        Transaction.objects.filter(pk=tx.pk).update_of(
            tx.employer_id,
            audit_passed_count=F("audit_passed_count") - 1,
            audit_failed_count=F("audit_failed_count") + 1,
        )
    return item


def _row_failed_already(tx: Transaction, item: Item) -> Conflict:
    """Why a row cannot be marked failed: a clerk marked it (who, when), or its audit failed."""
    marked = (
        Event.objects.filter(transaction_id=tx.pk, action="mark_failed", detail__row=item.row_no)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if marked is None:
        return Conflict(
            _("第 %(row)d 行未通过自动审核，已是审核失败，无需标记。") % {"row": item.row_no}, code="ROW_ALREADY_FAILED"
        )
    who = (marked.actor.get_full_name() or marked.actor.username) if marked.actor else _("系统")
    when = timezone.localtime(marked.at).strftime("%Y-%m-%d %H:%M:%S")
    return Conflict(
        _("第 %(row)d 行已于 %(when)s 由 %(who)s 标记为审核失败，无需重复标记。")
        % {"row": item.row_no, "when": when, "who": who},
        code="ROW_ALREADY_FAILED",
        extra={"who": who, "when": when},
    )


def agency_cancel(*, tx: Transaction, actor, reason: str, version: int | None = None) -> Transaction:
    """A clerk or administrator cancels a stale transaction, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写退单原因。"), code="REASON_REQUIRED")
    check_reason(reason, _("退单原因"))
    if actor.is_clerk:
        _check_clerk(tx, actor)
    reasons = [Issue("CANCELLED_BY_AGENCY", "", {"reason": reason[:500]}).as_dict()]
    with transaction.atomic():
        tx = transition(
            tx,
            from_states=(State.SAVED, State.RETURNED, State.REVIEW),
            to_state=State.CANCELLED,
            version=version,
            actor=actor,
            action="agency_cancel",
            reason=reason,
            return_reasons=reasons,
        )
        release_locks(tx)
    return tx


# --- housekeeping jobs ----------------------------------------------------------------------


def expire_drafts(now: dt.datetime | None = None) -> int:
    """Cancel drafts untouched for the expiry parameter, so none blocks a person for ever."""
    now = now or timezone.now()
    days = ParamSnapshot.load().setting_int("draft_expiry_days", clock.today())
    cutoff = now - dt.timedelta(days=days)
    count = 0
    # An import given up and left alone holds the persons it locked like a draft: it expires too.
    for tx in Transaction.objects.filter(CANCELLABLE, touched_at__lt=cutoff).only("pk", "state"):
        reasons = [Issue("EXPIRED", "", {"days": days}).as_dict()]
        try:
            with transaction.atomic():
                transition(
                    tx,
                    from_states=(*EDITABLE_STATES, State.IMPORTING),
                    where=CANCELLABLE,
                    to_state=State.CANCELLED,
                    version=None,
                    actor=None,
                    action="expire",
                    reason=f"{days}",
                    return_reasons=reasons,
                )
                release_locks(tx)
            count += 1
        except Conflict:
            continue
    return count


# How long before a draft's automatic 退单 its operators are warned.
EXPIRY_WARNING_DAYS = 3


def warn_expiring_drafts(now: dt.datetime | None = None) -> int:
    """Tell the operators of every draft that expire_drafts will cancel within
    EXPIRY_WARNING_DAYS: one outbox row per draft and last change (a draft touched again and
    left again is warned again; the daily run twice, once)."""
    now = now or timezone.now()
    days = ParamSnapshot.load().setting_int("draft_expiry_days", clock.today())
    expires = now - dt.timedelta(days=days)
    warn_from = expires + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    count = 0
    drafts = Transaction.objects.filter(CANCELLABLE, touched_at__lt=warn_from, touched_at__gte=expires)
    for tx in drafts.only("pk", "employer_id", "serial", "business_type", "mode", "touched_at", "return_reasons"):
        expires_at = tx.touched_at + dt.timedelta(days=days)
        payload = {
            "serial": tx.serial or "",
            "business_type": tx.business_type,
            "mode": tx.mode,
            "expires_on": clock.date_of(expires_at).isoformat(),
        }
        with transaction.atomic():
            key = f"{outbox.EXPIRY_WARNING}:{tx.pk}:{tx.touched_at.timestamp():.6f}"
            if outbox.record(outbox.EXPIRY_WARNING, tx, key=key, payload=payload):
                count += 1
    return count


def sweep_stuck_audits(now: dt.datetime | None = None) -> int:
    """Re-queue audits whose job vanished (e.g. the queue row was lost) past a timeout."""
    return requeue_silent(State.AUDITING, enqueue_audit, "requeue", now)


def requeue_silent(state: str, enqueue, action: str, now: dt.datetime | None = None) -> int:
    """Queue the job of every transaction in `state` whose heartbeat is older than
    SHEBAO_AUDIT_STUCK_SECONDS again, once: the heartbeat is reset in the same commit.

    A job that has had its SHEBAO_JOB_MAX_ATTEMPTS deliveries (each failed, or was killed) is
    not queued again but given up (job_fail): a poison job is never re-queued for ever."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.SHEBAO_AUDIT_STUCK_SECONDS)
    count = 0
    for tx in Transaction.objects.filter(state=state, heartbeat_at__lt=cutoff, job_failed_at__isnull=True):
        if tx.job_attempts >= settings.SHEBAO_JOB_MAX_ATTEMPTS:
            ref = log_reference(
                log, "job of transaction %s silent after %d attempts; given up", tx.pk, tx.job_attempts, exc_info=False
            )
            error = f"[{ref}] silent after {tx.job_attempts} attempts" + (
                f"; last: {tx.job_error}" if tx.job_error else ""
            )
            job_fail(tx.pk, state, ref=ref, error=error[:500], attempts=tx.job_attempts)
            continue
        with transaction.atomic():
            if Transaction.objects.filter(pk=tx.pk, state=state, heartbeat_at__lt=cutoff).update(heartbeat_at=now):
                log_event(tx, actor=None, action=action, from_state=state)
                enqueue(tx)
                count += 1
    return count
