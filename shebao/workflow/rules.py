"""The rule catalogue: every check the product makes, with a stable code.

One catalogue serves the form, the batch import, the automatic audit, the failure lists,
回退原因 and the API. A check returns `Issue`s (a code, the field and parameters); the
message is rendered from the catalogue in the reader's language, so the same code reads the
same everywhere. Codes never change meaning; retired codes are never reused.

The engine's own rules (field formats, identity documents, locks, files, the clerk and the
jobs) are here; a business type brings its rules in its own module (`BusinessType.rules`),
added to the same catalogue when the type registers. A message is its Chinese source text,
translated by gettext when it is shown (English in shebao/locale/en).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils import translation
from django.utils.translation import gettext, gettext_noop, pgettext

from shebao.core.errors import ApplicationError
from shebao.core.text import list_separator

CATALOGUE_VERSION = "2026.2"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    # The Chinese source text (a gettext msgid, with {placeholders}); shown through gettext.
    message: str

    def text(self) -> str:
        return gettext(self.message)


@dataclass(frozen=True)
class Issue:
    code: str
    field: str = ""
    params: dict = dataclasses.field(default_factory=dict)

    @property
    def rule(self) -> Rule:
        return rule_of(self.code)

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def is_error(self) -> bool:
        return self.rule.severity == Severity.ERROR

    def message(self, language: str | None = None) -> str:
        return render(self.code, self.field, self.params, language)

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict) -> Issue:
        return cls(data["code"], data.get("field", ""), data.get("params") or {})


# --- parameters that are text to translate ----------------------------------------------------
# Issues are stored as JSON and rendered when read, in the reader's language: a parameter that
# is words (a field's label, an insurance type) is stored as its msgid and translated then.


def text(msgid: str, context: str = "") -> dict:
    """A parameter shown as gettext(msgid) (pgettext with a context)."""
    return {"t": msgid, "c": context} if context else {"t": msgid}


def texts(msgids: Iterable[str], context: str = "") -> dict:
    """Several msgids shown translated and joined with the reader's list separator."""
    values = list(msgids)
    return {"t": values, "c": context} if context else {"t": values}


def plain_list(values: Iterable[object]) -> dict:
    """Values shown as they are, joined with the reader's list separator (years, row numbers)."""
    return {"l": [str(v) for v in values]}


def localise(value: object) -> str:
    """A stored parameter as the reader reads it (see text(), texts(), plain_list())."""
    return _localise(value)


def _localise(value: object) -> str:
    if isinstance(value, dict):
        if "t" in value:
            context = value.get("c") or ""
            one = (lambda m: pgettext(context, m)) if context else gettext
            words = value["t"]
            return list_separator().join(one(str(w)) for w in words) if isinstance(words, list) else one(str(words))
        if "l" in value:
            return list_separator().join(str(v) for v in value["l"])
        if "zh" in value:  # stored before messages were gettext msgids: the Chinese was the msgid
            return gettext(str(value["zh"]))
    return str(value)


E, W = Severity.ERROR, Severity.WARNING

RULES: dict[str, Rule] = {}


def add_rules(rules: Iterable[Rule]) -> None:
    """Add rules to the catalogue. A code is defined once: the same code with another
    severity or message is a programming error, caught when the module is imported."""
    for rule in rules:
        known = RULES.get(rule.code)
        if known is not None and known != rule:
            raise ValueError(f"rule code {rule.code} is already defined differently")
        RULES[rule.code] = rule


def remove_rules(codes: Iterable[str]) -> None:
    """Take rules out of the catalogue (a business type unregistered: tests only)."""
    for code in codes:
        RULES.pop(code, None)


def rule_of(code: str) -> Rule:
    """The rule of a code; a code no module defines any more (a stored issue of a business
    type that was removed) reads as its code, an error, instead of breaking the page."""
    return RULES.get(code) or Rule(code, E, code)


ENGINE_RULES = [
    # Field format (row-level: run while typing, at save and at import).
    Rule("REQUIRED", E, gettext_noop("「{label}」为必填项，请填写。")),
    Rule("CHOICE", E, gettext_noop("「{label}」的值“{value}”不在可选范围内，可选：{choices}。")),
    Rule("MONTH_FORMAT", E, gettext_noop("「{label}」应为年月，如 2025-03。")),
    Rule("DATE_FORMAT", E, gettext_noop("「{label}」应为日期，如 2025-03-01。")),
    Rule(
        "MONEY_FORMAT",
        E,
        gettext_noop("「{label}」应为金额（元，最多两位小数，不超过 9999999999.99），如 6500.00。"),
    ),
    Rule("MONEY_POSITIVE", E, gettext_noop("「{label}」须大于 0。")),
    Rule(
        "PHONE_FORMAT",
        E,
        gettext_noop("「联系电话」应为 11 位手机号或带区号的固定电话，如 13800000000 或 027-85551234。"),
    ),
    Rule("TEXT_LENGTH", E, gettext_noop("「{label}」最多 {max} 个字符。")),
    Rule(
        "TEXT_CONTROL_CHARS",
        E,
        gettext_noop(
            "「{label}」含有不可见的控制字符 {char}（常见于复制粘贴的文字，如文字方向控制符），请删除该字符后重新填写。"
        ),
    ),
    Rule("ID_TYPE", E, gettext_noop("「证件类型」无效，请选择居民身份证、港澳台居民居住证或外国人永久居留身份证。")),
    Rule("ID_FORMAT", E, gettext_noop("「证件号码」应为 18 位（末位可为 X）或 15 位数字的居民身份证号码。")),
    Rule(
        "ID_NUMERIC_CELL",
        E,
        gettext_noop(
            "「证件号码」以数字格式保存，超过 15 位的数字已被表格软件截断。请将该列设置为“文本”格式后重新填写号码。"
        ),
    ),
    Rule("ID_REGION", E, gettext_noop("「证件号码」前两位不是有效的省级行政区划代码，请核对号码。")),
    Rule("ID_BIRTH_DATE", E, gettext_noop("「证件号码」第 7–14 位不是有效的出生日期，请核对号码。")),
    Rule("ID_CHECKSUM", E, gettext_noop("「证件号码」校验位不正确，请核对号码（末位 x 请写作 X）。")),
    Rule(
        "ID_FORMAT_HMT",
        E,
        gettext_noop("「证件号码」港澳台居民居住证号码应为 18 位，以 810000、820000 或 830000 开头。"),
    ),
    Rule(
        "ID_FORMAT_FOREIGN",
        E,
        gettext_noop("「证件号码」外国人永久居留身份证号码应为以 9 开头的 18 位，或 3 个字母加 12 位数字。"),
    ),
    Rule("NAME_LENGTH", E, gettext_noop("「姓名」最多 50 个字符。")),
    Rule(
        "NAME_CHARS",
        E,
        gettext_noop("「姓名」只能包含汉字、英文字母、英文单词间的空格和间隔号“·”，不能有数字或符号。"),
    ),
    Rule(
        "USCC_FORMAT",
        E,
        gettext_noop(
            "「统一社会信用代码」应为 18 位数字或大写字母（不含 I、O、Z、S、V）：第 1 "
            "位为登记管理部门代码（{authorities}），第 2 位为机构类别代码，第 3–8 位为登记管理机关行政区划码（6 "
            "位数字），第 9–17 位为主体标识码（组织机构代码），第 18 位为校验码。请对照营业执照或登记证书核对。"
        ),
    ),
    Rule("USCC_CHECKSUM", E, gettext_noop("「统一社会信用代码」校验位不正确，请核对。")),
    Rule(
        "INSURANCE_TYPES",
        E,
        gettext_noop(
            "「{label}」含无法识别的险种“{value}”，可选：养老、医疗、失业、工伤、生育，用顿号分隔，留空表示全部。"
        ),
    ),
    # Locks, the acceptance window, the clerk and the housekeeping.
    Rule("DUPLICATE_IN_FILE", E, gettext_noop("同一人员在本次文件中出现多次（第 {rows} 行），请只保留一行。")),
    Rule(
        "LOCKED_HERE",
        E,
        gettext_noop(
            "该人员已有未办结的业务，流水号 {serial}。同一人员同一时间只能存在一条未审核通过的流水号，"
            "请先办结或退单该业务。"
        ),
    ),
    Rule("LOCKED_ELSEWHERE", E, gettext_noop("该人员在其他单位有未办结的业务，暂不能办理。")),
    Rule("DECLARATION_OPEN", E, gettext_noop("该人员 {year} 年度已有未办结的同类申报，流水号 {serial}。")),
    Rule(
        "OUTSIDE_WINDOW",
        E,
        gettext_noop("当前不在受理期内（每月 {first} 日至 {last} 日受理），请于 {reopen} 起提交。"),
    ),
    Rule(
        "MATERIALS_MISSING",
        E,
        gettext_noop(
            "该业务须经经办机构审核，提交审批前请上传以下材料的扫描件：{materials}。"
            "请在本页「上传材料」中选择材料名称和文件上传后，再提交审批。"
        ),
    ),
    Rule("ALL_ROWS_FAILED", E, gettext_noop("全部人员审核失败")),
    Rule("CLERK_MARKED_FAILED", E, gettext_noop("经办机构审核不通过：{reason}")),
    Rule("CLERK_RETURNED", E, gettext_noop("经办机构回退：{reason}")),
    Rule("EXPIRED", E, gettext_noop("草稿超过 {days} 天未处理，系统自动退单。")),
    Rule("CANCELLED_BY_AGENCY", E, gettext_noop("经办机构退单：{reason}")),
    # System errors: a check or a background job raised. The reference finds the logged traceback.
    Rule(
        "ROW_INTERNAL_ERROR",
        E,
        gettext_noop(
            "检查本行时发生系统错误（参考号 {ref}），本行未能导入或审核。请核对本行各项内容后重新办理；"
            "如仍出现此提示，请联系经办机构并提供参考号 {ref}。"
        ),
    ),
    Rule(
        "IMPORT_JOB_FAILED",
        E,
        gettext_noop(
            "文件导入因系统错误未能完成（参考号 {ref}）。请点击「退单」后重新上传；如仍出现此提示，"
            "请联系经办机构并提供参考号 {ref}。"
        ),
    ),
    Rule(
        "AUDIT_JOB_FAILED",
        E,
        gettext_noop(
            "自动审核因系统错误未能完成（参考号 {ref}），业务已回退。请重新提交审批或退单；如仍出现此提示，"
            "请联系经办机构并提供参考号 {ref}。"
        ),
    ),
    # Whole-file refusals of a batch upload (shebao.batch): the file creates no transaction.
    Rule("FILE_EMPTY", E, gettext_noop("上传的文件是空的（0 字节），请选择填写好的模板文件。")),
    Rule("FILE_TOO_LARGE", E, gettext_noop("文件大小 {size} MB 超过上限 {max} MB，请拆分为多个文件分别上传。")),
    Rule(
        "FILE_NOT_SPREADSHEET",
        E,
        gettext_noop(
            "上传的文件不是表格文件，系统只接受 Excel（.xlsx、.xls）或 CSV 文件，请使用「模板下载」的模板填写后上传。"
        ),
    ),
    Rule(
        "FILE_ENCRYPTED",
        E,
        gettext_noop("该工作簿设置了打开密码（已加密），系统无法读取。请在 Excel 中取消密码保护后重新上传。"),
    ),
    Rule(
        "FILE_ZIP_BOMB",
        E,
        gettext_noop("文件解压后异常巨大（约 {size} MB，压缩比 {ratio} 倍），不是正常的表格文件，已拒绝。"),
    ),
    Rule(
        "FILE_UNREADABLE",
        E,
        gettext_noop("文件无法读取，可能已损坏或不是有效的 Excel 文件。请用 Excel 打开后另存为 .xlsx 再上传。"),
    ),
    Rule(
        "FILE_ENCODING",
        E,
        gettext_noop(
            "CSV 文件的字符编码无法识别，请另存为“CSV UTF-8（逗号分隔）”或 GB18030/GBK 编码的 CSV 后上传，"
            "或直接上传 Excel 文件。"
        ),
    ),
    Rule(
        "FILE_TOO_MANY_ROWS",
        E,
        gettext_noop("文件共有 {rows} 行数据，超过每个文件最多 {max} 行的限制，请拆分为多个文件上传。"),
    ),
    Rule("FILE_NO_ROWS", E, gettext_noop("文件表头下方没有数据行，请填写人员信息后上传。")),
    Rule(
        "FILE_WRONG_TEMPLATE",
        E,
        gettext_noop("文件不是「{business}」的导入模板{hint}，缺少必填列：{columns}。请使用本业务的「模板下载」。"),
    ),
    Rule(
        "FILE_MISSING_COLUMNS",
        E,
        gettext_noop("文件缺少必填列：{columns}。列名须与模板一致（列的顺序可以不同），请补上这些列后重新上传。"),
    ),
    Rule(
        "FILE_DUPLICATE_COLUMN",
        E,
        gettext_noop("文件中列名「{columns}」重复出现，系统无法确定使用哪一列，请删除多余的列后重新上传。"),
    ),
    # Whole-zip refusals of the photos beside a batch file: nothing is created either.
    Rule(
        "PHOTOS_EMPTY",
        E,
        gettext_noop("照片压缩包是空的，没有照片文件。请把照片（以证件号码命名）压缩为 .zip 后上传。"),
    ),
    Rule(
        "PHOTOS_TOO_LARGE",
        E,
        gettext_noop("照片压缩包大小 {size} MB 超过上限 {max} MB，请拆分为多个批次分别上传。"),
    ),
    Rule(
        "PHOTOS_NOT_ZIP",
        E,
        gettext_noop("照片须打包为 .zip 压缩文件上传（不接受 .rar、.7z 或单张图片），请重新压缩后上传。"),
    ),
    Rule(
        "PHOTOS_TOO_MANY",
        E,
        gettext_noop("照片压缩包中有 {count} 个文件，超过每次最多 {max} 个的限制，请拆分后上传。"),
    ),
    Rule(
        "PHOTOS_ENTRY_TOO_LARGE",
        E,
        gettext_noop("照片压缩包中的文件“{name}”超过 {max} MB，请压缩该照片后重新打包上传。"),
    ),
    Rule(
        "PHOTOS_ZIP_BOMB",
        E,
        gettext_noop("照片压缩包解压后异常巨大（约 {size} MB，压缩比 {ratio} 倍），不是正常的照片压缩包，已拒绝。"),
    ),
    Rule(
        "PHOTOS_DUPLICATE",
        E,
        gettext_noop("照片压缩包中“{first}”和“{second}”是同一证件号码 {number} 的照片，请只保留一张。"),
    ),
    Rule("PHOTOS_ENCRYPTED", E, gettext_noop("照片压缩包设置了密码，系统无法读取。请不加密码重新压缩后上传。")),
    Rule("PHOTOS_UNREADABLE", E, gettext_noop("照片压缩包无法读取，可能已损坏。请重新压缩为 .zip 后上传。")),
]
add_rules(ENGINE_RULES)


def render(code: str, field_name: str = "", params: dict | None = None, language: str | None = None) -> str:
    if language:
        with translation.override(language):
            return render(code, field_name, params)
    template = rule_of(code).text()
    values = {"label": field_name}
    for key, value in (params or {}).items():
        values[key] = _localise(value)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def refusal(issue: Issue, *, extra: dict | None = None) -> ApplicationError:
    """A service's refusal by a rule of the catalogue: its message in the reader's language,
    its code, and the issue itself (the API renders it in every language)."""
    error = ApplicationError(issue.message(), code=issue.code, extra=extra)
    error.issue = issue
    return error


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


def issues_from(data: list[dict]) -> list[Issue]:
    return [Issue.from_dict(d) for d in data or []]


@dataclass(frozen=True)
class Shown:
    """An issue as a reader sees it: the message first; the code kept for a support call."""

    code: str
    message: str
    warning: bool


def shown(data: Iterable[dict | Issue] | None, language: str | None = None) -> list[Shown]:
    """Stored (or fresh) issues rendered in the reader's language, errors before warnings,
    each message once. A stored entry that is not an issue at all is skipped, not raised on."""
    out: list[Shown] = []
    seen: set[tuple[str, str]] = set()
    for entry in data or []:
        if isinstance(entry, Issue):
            issue = entry
        elif isinstance(entry, dict) and isinstance(entry.get("code"), str):
            issue = Issue.from_dict(entry)
        else:
            continue
        message = issue.message(language)
        if (issue.code, message) in seen:
            continue
        seen.add((issue.code, message))
        out.append(Shown(issue.code, message, not issue.is_error))
    return sorted(out, key=lambda s: s.warning)


def split(data: Iterable[dict | Issue] | None, language: str | None = None) -> tuple[list[Shown], list[Shown]]:
    """(errors, warnings): 回退原因 lists errors; warnings (e.g. 按下限核定) are shown apart."""
    every = shown(data, language)
    return [s for s in every if not s.warning], [s for s in every if s.warning]


def errors_only(data: list[dict]) -> list[dict]:
    """The stored issues that are errors: what a return reason keeps of an audit result."""
    return [d for d in data or [] if isinstance(d, dict) and rule_of(str(d.get("code", ""))).severity == E]


def messages(data: Iterable[dict | Issue] | None, language: str | None = None) -> list[str]:
    """The plain messages of stored issues (no codes), errors first."""
    return [s.message for s in shown(data, language)]
