"""Business types plug into the engine here. The engine knows no business type by name.

A business type is one module in shebao/business/ (found there automatically, see
shebao/business/apps.py) with one `BusinessType` subclass decorated with `@register`. It
declares everything that is its own: its fields and header fields, its rules, its form
sections and previews, its printed form, the materials its clerk needs, the names of its
pages, and how it locks. Pages, batch, exports, the back office and the engine read these
declarations and never name a type. docs/architecture.md has an example.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Q
from django.utils.translation import gettext, gettext_noop

from shebao.core.errors import log_reference
from shebao.workflow.fields import FieldSpec, RowResult, normalise_row
from shebao.workflow.printing import PrintForm
from shebao.workflow.rules import Issue, Rule, add_rules, remove_rules

if TYPE_CHECKING:
    from shebao.params.services import ParamSnapshot
    from shebao.workflow.models import Item, Transaction


@dataclass
class AuditContext:
    """What rules get handed in, prefetched, so one rule serves one row or a hundred thousand."""

    params: ParamSnapshot
    today: object
    extra: dict[str, Any] = field(default_factory=dict)


class Locking(StrEnum):
    """What an open transaction of the type holds (DOMAIN §4)."""

    NONE = "none"
    # The person: one open enrolment or suspension per person, across employers.
    PERSON = "person"
    # A declaration key (`BusinessType.declaration_key`, e.g. person and year): one open
    # declaration of the type per key.
    DECLARATION = "declaration"


@dataclass(frozen=True)
class Names:
    """The names of a business type's pages (Chinese source texts, shown through gettext)."""

    title: str  # the menu, the landing page, 业务类型 in the task lists: 增员(续保)
    result_query: str  # the batch result query: 批量增员审核结果查询
    single_export: str = gettext_noop("导出")  # the export button of a single transaction
    batch_export: str = gettext_noop("导出")  # the export button of a batch


@dataclass(frozen=True)
class Section:
    """A group of fields on the form (a fieldset with a legend), optionally with a preview."""

    title: str
    fields: tuple[str, ...]
    preview: str = ""  # the key of a Preview shown under the section

    @property
    def label(self) -> str:
        return gettext(self.title)


@dataclass(frozen=True)
class PreviewColumn:
    key: str
    title: str
    numeric: bool = False

    @property
    def label(self) -> str:
        return gettext(self.title)


@dataclass(frozen=True)
class PreviewNote:
    """A value under the table: its label, the value, its unit (e.g. 滞纳金 … 元)."""

    key: str
    title: str
    unit: str = ""

    @property
    def label(self) -> str:
        return gettext(self.title)

    @property
    def unit_label(self) -> str:
        return gettext(self.unit) if self.unit else ""


@dataclass
class PreviewTable:
    """What a preview computed for a row: display strings, per column key."""

    rows: list[dict[str, str]]
    totals: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """Amounts shown before saving (and on the saved transaction), computed from the row.

    `compute(params, data, employer)` gets the checked row; it is not called while one of the
    `needs` fields has an error. An empty table hides the preview."""

    key: str
    title: str
    columns: tuple[PreviewColumn, ...]
    compute: Callable[[Any, dict[str, Any], Any], PreviewTable]
    needs: tuple[str, ...] = ()
    notes: tuple[PreviewNote, ...] = ()
    total_title: str = gettext_noop("合计")

    @property
    def label(self) -> str:
        return gettext(self.title)

    @property
    def total_label(self) -> str:
        return gettext(self.total_title)

    @property
    def total_span(self) -> int:
        """Columns the 合计 cell spans: those before the first total."""
        for n, column in enumerate(self.columns):
            if column.numeric and column.key in self.totalled:
                return max(n, 1)
        return len(self.columns)

    totalled: tuple[str, ...] = ()  # the columns summed in the footer


@dataclass(frozen=True)
class Photo:
    """The type takes a photo per person (single entry): where it goes and when it is needed."""

    title: str
    missing: str  # shown when there is none yet


class BusinessType:
    code: ClassVar[str] = ""
    names: ClassVar[Names]
    fields: ClassVar[list[FieldSpec]] = []
    # Asked once per transaction (the single form's top, the batch upload page), stored in
    # Transaction.header; not a column of the file. E.g. 申报年度.
    header_fields: ClassVar[list[FieldSpec]] = []
    # The type's rules, added to the one catalogue (shebao.workflow.rules) when it registers.
    rules: ClassVar[list[Rule]] = []
    # Fieldsets of the form; fields in no section go to the first. None: one section.
    sections: ClassVar[list[Section] | None] = None
    previews: ClassVar[list[Preview]] = []
    print_form: ClassVar[PrintForm | None] = None
    # What an ordinary employer brings to the office (the default 材料清单; an office's own
    # checklist in 系统管理 takes precedence).
    materials: ClassVar[list[str]] = []
    photo: ClassVar[Photo | None] = None
    single: ClassVar[bool] = True
    batch: ClassVar[bool] = False
    # Ordinary employers bring materials and a clerk reviews (DOMAIN §2).
    review_for_ordinary: ClassVar[bool] = False
    locking: ClassVar[Locking] = Locking.NONE
    # Acceptance window applies at the first submit.
    windowed: ClassVar[bool] = False
    # The type resumes (续保) a person suspended at the employer: 参保人员 offers it on such a
    # person, opening the single form filled by `prefill`.
    resumes: ClassVar[bool] = False
    # 单个办理 starts with a search of the employer's persons (name or ID number); picking one
    # fills the form by `prefill`.
    picks_person: ClassVar[bool] = False
    # Values the audit writes into a row's data for the clerk (shown after `fields` in the
    # back office), never typed by the employer.
    review_fields: ClassVar[list[FieldSpec]] = []
    # A note at the top of the template's 填写说明 when the type pre-fills it (`template_rows`),
    # formatted with the header `template_rows` returns.
    template_note: ClassVar[str] = ""
    # The type changes the employer's own details (单位信息 offers it): one item, no person.
    edits_employer: ClassVar[bool] = False

    @property
    def label(self) -> str:
        return gettext(self.names.title)

    @property
    def result_query_label(self) -> str:
        return gettext(self.names.result_query)

    def form_sections(self) -> list[tuple[Section, list[FieldSpec]]]:
        """The sections with their fields, in declaration order; every field in exactly one."""
        by_name = {spec.name: spec for spec in self.fields}
        sections = self.sections or [Section(gettext_noop("个人信息录入"), tuple(by_name))]
        placed = {name for section in sections for name in section.fields}
        out = []
        for n, section in enumerate(sections):
            names = list(section.fields) + ([f for f in by_name if f not in placed] if n == 0 else [])
            out.append((section, [by_name[name] for name in by_name if name in names]))
        return out

    def preview(self, key: str) -> Preview | None:
        return next((p for p in self.previews if p.key == key), None)

    @property
    def person_rows(self) -> bool:
        """Whether each row names a person (a 证件号码 field): a row that names none of a type
        whose rows are persons holds no lock; a type without persons (e.g. the employer's own
        details) locks by its declaration key alone."""
        return any(spec.name == "id_number" for spec in self.fields)

    def initial(self, employer: Any) -> dict[str, str]:
        """A new single form's values for this employer (field name to the form's text), e.g.
        its current details; the defaults and `header_initial` come first."""
        return {}

    def header_initial(self, params: ParamSnapshot) -> dict[str, str]:
        """The header's values a new form or upload page starts with (e.g. the year open now)."""
        return {}

    def check_header(self, raw: dict[str, Any], params: ParamSnapshot) -> RowResult:
        """Header rules (e.g. the 申报年度 is open): runs at 保存 and at the upload."""
        return normalise_row(self.header_fields, raw)

    def check_row(self, raw: dict[str, Any], params: ParamSnapshot, employer: object = None) -> RowResult:
        """Row-level rules: formats, checksums, ages. Runs while typing, at save and import."""
        return normalise_row(self.fields, raw)

    def check_known_rows(self, results: list[RowResult], employer: object) -> None:
        """Rules that need only what this employer's own register holds (e.g. the name of a
        person it employs), added to already checked rows: run while typing, at save and at
        import a chunk at a time, so a mistake shows before the audit. Never reveals data of
        a person the employer has no relation with."""

    def audit(self, tx: Transaction, items: list[Item], ctx: AuditContext) -> dict[int, list[Issue]]:
        """Register rules for many rows at once. Returns issues per item id."""
        return {item.pk: [] for item in items}

    def review_reasons(self, tx: Transaction, items: list[Item], ctx: AuditContext) -> list[str]:
        """Why a clerk must look even at a VIP employer's transaction (empty: no need)."""
        return []

    def required_materials(self, tx: Transaction, items: list[Item]) -> list[str]:
        """The materials (Chinese source texts, gettext_noop msgids) that must be attached
        (不见面审批) when this transaction goes to a clerk: 提交审批 of a transaction that
        will need one refuses while one is missing (MATERIALS_MISSING). Asked before the
        audit, a chunk of the imported rows at a time (a batch's answers are joined); each is
        also offered as a 材料名称 of the upload form. Only the rows `materials_rows` selects
        are read (the pages ask on every view of a batch of 100,000). Default: none."""
        return []

    # The rows that can require a material (a filter of Item, on its data), so that
    # `required_materials` reads only those: None reads every imported row.
    materials_rows: ClassVar[Q | None] = None

    def apply(self, tx: Transaction, items: list[Item], ctx: AuditContext) -> None:
        """Change the register. Runs inside the finishing database transaction."""
        raise NotImplementedError

    def declaration_key(
        self, header: dict[str, Any], data: dict[str, Any], employer_id: int | None = None
    ) -> str | None:
        """Locking.DECLARATION: the key one open declaration holds (None: the row holds none);
        `employer_id` is the declaring employer's, for keys that are per employer."""
        return None

    def template_rows(self, employer: Any, params: ParamSnapshot) -> tuple[dict[str, str], list[dict[str, str]]]:
        """The template pre-filled for this employer: (the header the rows are for, e.g. the
        申报年度, and the rows, field name to text; keys that are no field are extra columns
        for reading, `template_columns`). Empty rows: a blank template."""
        return {}, []

    # Read-only columns a pre-filled template adds after the fields: (key, Chinese title).
    template_columns: ClassVar[list[tuple[str, str]]] = []

    def submit_notes(self, tx: Transaction) -> list[str]:
        """Warnings shown once 提交审批 succeeded (e.g. persons not declared yet); never refuse."""
        return []

    def summary(self, data: dict[str, Any]) -> str:
        return ""

    def prefill(self, person: Any, employer: Any) -> dict[str, str]:
        """`resumes`: the single form's values for a person the register knows (field name
        to the form's text)."""
        return {}


log = logging.getLogger(__name__)


def check_row_safely(
    business: BusinessType,
    raw: dict[str, Any],
    params: ParamSnapshot,
    employer: object = None,
    *,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    where: str = "",
) -> RowResult:
    """`business.check_row`, total: a rule that raises on a row makes that row fail with
    ROW_INTERNAL_ERROR and the reference of the logged traceback, instead of taking the
    form, the import or the audit it runs in down with it. `prepare` turns the cells into
    what check_row reads (an import's cooking of a spreadsheet's cells), inside the guard."""
    try:
        return business.check_row(prepare(raw) if prepare else raw, params, employer)
    except Exception:
        ref = log_reference(log, "%s: the row check of %s raised", where or "row check", business.code)
        return internal_error_row(raw, ref)


def check_known_rows_safely(
    business: BusinessType, results: list[RowResult], employer: object, *, where: str = ""
) -> None:
    """`business.check_known_rows`, total: if it raises, the rows keep their own results (the
    audit runs the same register rules later) and the traceback is logged."""
    if not results or employer is None:
        return
    try:
        business.check_known_rows(results, employer)
    except Exception:
        log_reference(log, "%s: the register row check of %s raised", where or "row check", business.code)


def internal_error_row(raw: dict[str, Any], ref: str) -> RowResult:
    """A row whose check raised: its cells as text (for the lists that show it) and one issue."""
    result = RowResult(data={str(name): _text(value) for name, value in raw.items()})
    result.issues.append(Issue("ROW_INTERNAL_ERROR", "", {"ref": ref}))
    return result


def _text(value: object) -> str:
    try:
        return "" if value is None else str(value).replace("\x00", "")[:1000]
    except Exception:  # str() itself can refuse (an int of more than 4,300 digits)
        return ""


_REGISTRY: dict[str, BusinessType] = {}


def register(business: type[BusinessType]) -> type[BusinessType]:
    """Class decorator: the type is offered everywhere, and its rules join the catalogue."""
    instance = business()
    if not instance.code or instance.code in _REGISTRY and type(_REGISTRY[instance.code]) is not business:
        raise ValueError(f"business type code {instance.code!r} is empty or taken")
    names = [spec.name for spec in [*instance.header_fields, *instance.fields]]
    if len(names) != len(set(names)):
        raise ValueError(f"business type {instance.code}: a field name is declared twice")
    add_rules(instance.rules)
    _REGISTRY[instance.code] = instance
    return business


def unregister(code: str) -> None:
    """Take a type out (tests that define one of their own)."""
    instance = _REGISTRY.pop(code, None)
    if instance is not None:
        remove_rules(rule.code for rule in instance.rules)


def get(code: str) -> BusinessType:
    return _REGISTRY[code]


def find(code: str) -> BusinessType | None:
    return _REGISTRY.get(code)


def all_types() -> list[BusinessType]:
    return list(_REGISTRY.values())


def resuming() -> BusinessType | None:
    """The type that resumes a suspended person (续保), if one is registered."""
    return next((b for b in _REGISTRY.values() if b.resumes and b.single), None)


def editing_employer() -> BusinessType | None:
    """The type that changes the employer's own details, if one is registered."""
    return next((b for b in _REGISTRY.values() if b.edits_employer and b.single), None)


def choices() -> list[tuple[str, str]]:
    return [(b.code, b.label) for b in _REGISTRY.values()]


def label_of(code: str) -> str:
    """The reader's-language name of a type, or its code when no module defines it any more."""
    business = _REGISTRY.get(code)
    return business.label if business else code
