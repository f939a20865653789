"""The rule catalogue: every check the product makes, with a stable code.

One catalogue serves the form, the batch import, the automatic audit, the failure lists,
回退原因 and the API. A check returns `Issue`s (a code, the field and parameters); the
message is rendered from the catalogue in the reader's language, so the same code reads the
same everywhere. Codes never change meaning; retired codes are never reused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum

from django.utils import translation

CATALOGUE_VERSION = "2026.1"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    zh: str
    en: str


@dataclass(frozen=True)
class Issue:
    code: str
    field: str = ""
    params: dict = dataclasses.field(default_factory=dict)

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

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


E, W = Severity.ERROR, Severity.WARNING

_RULES = [
    # Field format (row-level: run while typing, at save and at import).
    Rule("REQUIRED", E, "「{label}」为必填项，请填写。", "{label} is required; please fill it in."),
    Rule(
        "CHOICE",
        E,
        "「{label}」的值“{value}”不在可选范围内，可选：{choices}。",
        "{label}: '{value}' is not allowed; choose one of: {choices}.",
    ),
    Rule("MONTH_FORMAT", E, "「{label}」应为年月，如 2025-03。", "{label} must be a month such as 2025-03."),
    Rule("DATE_FORMAT", E, "「{label}」应为日期，如 2025-03-01。", "{label} must be a date such as 2025-03-01."),
    Rule(
        "MONEY_FORMAT",
        E,
        "「{label}」应为金额（元，最多两位小数，不超过 9999999999.99），如 6500.00。",
        "{label} must be an amount in yuan with at most two decimals, up to 9999999999.99, such as 6500.00.",
    ),
    Rule("MONEY_POSITIVE", E, "「{label}」须大于 0。", "{label} must be greater than 0."),
    Rule(
        "PHONE_FORMAT",
        E,
        "「联系电话」应为 11 位手机号或带区号的固定电话，如 13800000000 或 027-85551234。",
        "Phone must be an 11-digit mobile number or a landline with area code, e.g. 027-85551234.",
    ),
    Rule("TEXT_LENGTH", E, "「{label}」最多 {max} 个字符。", "{label} may have at most {max} characters."),
    Rule(
        "TEXT_CONTROL_CHARS",
        E,
        "「{label}」含有不可见的控制字符 {char}（常见于复制粘贴的文字，如文字方向控制符），请删除该字符后重新填写。",
        "{label} contains the invisible control character {char} (often carried over by copy and paste, such as a "
        "text-direction control); delete it and type the text again.",
    ),
    Rule(
        "ID_TYPE",
        E,
        "「证件类型」无效，请选择居民身份证、港澳台居民居住证或外国人永久居留身份证。",
        "ID type is invalid; choose a resident ID card, an HMT residence permit or a foreigner's permanent residence ID.",
    ),
    Rule(
        "ID_FORMAT",
        E,
        "「证件号码」应为 18 位（末位可为 X）或 15 位数字的居民身份证号码。",
        "ID number must be an 18-character (last may be X) or 15-digit resident ID number.",
    ),
    Rule(
        "ID_NUMERIC_CELL",
        E,
        "「证件号码」以数字格式保存，超过 15 位的数字已被表格软件截断。请将该列设置为“文本”格式后重新填写号码。",
        "ID number was stored as a number and the spreadsheet has lost its last digits. Format the column as Text and type the number again.",
    ),
    Rule(
        "ID_REGION",
        E,
        "「证件号码」前两位不是有效的省级行政区划代码，请核对号码。",
        "ID number: the first two digits are not a valid province code; please check the number.",
    ),
    Rule(
        "ID_BIRTH_DATE",
        E,
        "「证件号码」第 7–14 位不是有效的出生日期，请核对号码。",
        "ID number: digits 7–14 are not a valid birth date; please check the number.",
    ),
    Rule(
        "ID_CHECKSUM",
        E,
        "「证件号码」校验位不正确，请核对号码（末位 x 请写作 X）。",
        "ID number: the check character is wrong; please check the number.",
    ),
    Rule(
        "ID_FORMAT_HMT",
        E,
        "「证件号码」港澳台居民居住证号码应为 18 位，以 810000、820000 或 830000 开头。",
        "ID number: an HMT residence permit number has 18 characters starting 810000, 820000 or 830000.",
    ),
    Rule(
        "ID_FORMAT_FOREIGN",
        E,
        "「证件号码」外国人永久居留身份证号码应为以 9 开头的 18 位，或 3 个字母加 12 位数字。",
        "ID number: a foreigner's permanent residence ID has 18 characters starting with 9, or 3 letters and 12 digits.",
    ),
    Rule("NAME_LENGTH", E, "「姓名」最多 50 个字符。", "Name may have at most 50 characters."),
    Rule(
        "NAME_CHARS",
        E,
        "「姓名」只能包含汉字、英文字母、英文单词间的空格和间隔号“·”，不能有数字或符号。",
        "Name may contain only Chinese characters, Latin letters, spaces between words and '·'; no digits or symbols.",
    ),
    Rule(
        "SEX_MISMATCH",
        E,
        "「性别」与证件号码不一致：号码显示为{expected}。",
        "Sex does not match the ID number, which says {expected}.",
    ),
    Rule(
        "BIRTH_MISMATCH",
        E,
        "「出生日期」与证件号码不一致：号码显示为 {expected}。",
        "Birth date does not match the ID number, which says {expected}.",
    ),
    Rule(
        "USCC_FORMAT",
        E,
        "「统一社会信用代码」应为 18 位数字或大写字母（不含 I、O、Z、S、V）："
        "第 1 位为登记管理部门代码（{authorities}），第 2 位为机构类别代码，"
        "第 3–8 位为登记管理机关行政区划码（6 位数字），第 9–17 位为主体标识码（组织机构代码），"
        "第 18 位为校验码。请对照营业执照或登记证书核对。",
        "Unified social credit code must be 18 digits or capital letters (no I, O, Z, S, V): position 1 the "
        "registration authority ({authorities}), 2 the organisation type, 3–8 the administrative division code "
        "(six digits), 9–17 the organisation code, 18 the check character. Check it against the business licence "
        "or registration certificate.",
    ),
    Rule(
        "USCC_CHECKSUM",
        E,
        "「统一社会信用代码」校验位不正确，请核对。",
        "Unified social credit code: the check character is wrong.",
    ),
    Rule(
        "INSURANCE_TYPES",
        E,
        "「{label}」含无法识别的险种“{value}”，可选：养老、医疗、失业、工伤、生育，用顿号分隔，留空表示全部。",
        "{label}: unknown insurance type '{value}'; use pension, medical, unemployment, injury, maternity separated by commas, blank for all.",
    ),
    # Enrolment rules that need only the row (and parameters).
    Rule(
        "AGE_UNDER_MIN",
        E,
        "「参保起始年月」时该人员未满 {min_age} 周岁（出生于 {birth}），不能参保。",
        "The person is under {min_age} at the start month (born {birth}) and cannot be enrolled.",
    ),
    Rule(
        "AGE_OVER_RETIREMENT",
        E,
        "该人员已于 {retire} 达到法定退休年龄，不能参加养老、医疗、失业、生育保险；如仅参加工伤保险，请只选择“工伤”。",
        "The person reached statutory retirement age in {retire}; pension, medical, unemployment and maternity are not allowed; choose injury only.",
    ),
    Rule(
        "AGE_OVER_RETIREMENT_INJURY",
        W,
        "该人员已于 {retire} 达到法定退休年龄，仅参加工伤保险。",
        "The person reached statutory retirement age in {retire}; work-injury insurance only.",
    ),
    Rule(
        "START_IN_FUTURE",
        E,
        "「参保起始年月」不能晚于当前月份 {current}。",
        "Start month may not be after the current month {current}.",
    ),
    Rule(
        "START_TOO_OLD",
        E,
        "「参保起始年月」早于当前月份超过 {months} 个月，请改为近 {months} 个月内；"
        "更早的月份请填写「追溯补缴」（补缴起始年月、补缴基数）。",
        "Start month lies more than {months} months back; choose one of the last {months} months and enter "
        "earlier months as a back payment (back payment from, back payment base).",
    ),
    Rule(
        "START_BEFORE_WORK",
        E,
        "「参保起始年月」不能早于「参加工作日期」{work}。",
        "Start month may not be before the first work date {work}.",
    ),
    Rule(
        "WORK_BEFORE_MIN_AGE",
        E,
        "「参加工作日期」早于该人员年满 {min_age} 周岁的日期，请核对。",
        "First work date is before the person turned {min_age}; please check.",
    ),
    Rule(
        "BACKPAY_AFTER_START",
        E,
        "「补缴起始年月」须早于「参保起始年月」{start}。",
        "Back payment must start before the start month {start}.",
    ),
    Rule(
        "BACKPAY_INCOMPLETE",
        E,
        "「追溯补缴」须同时填写补缴起始年月和补缴基数。",
        "Back payment needs both its start month and its base.",
    ),
    Rule(
        "BACKPAY_BEFORE_WORK_AGE",
        E,
        "「补缴起始年月」{month} 时该人员未满 {min_age} 周岁或尚未参加工作，请核对。",
        "Back payment month {month} is before the person turned {min_age} or started work.",
    ),
    Rule(
        "BACKPAY_AFTER_RETIREMENT",
        E,
        "「补缴起始年月」之后的 {month} 已达法定退休年龄，不能补缴。",
        "Back payment month {month} is past the statutory retirement age.",
    ),
    Rule(
        "BACKPAY_OVERLAP",
        E,
        "{month} 的{insurance}已有缴费记录，补缴月份不能重叠，请调整「补缴起始年月」。",
        "{insurance} for {month} is already paid; back-payment months may not overlap, adjust the back-payment start.",
    ),
    Rule(
        "WAGE_BELOW_FLOOR",
        W,
        "「{label}」{wage} 元低于 {year} 年缴费基数下限 {floor} 元，按下限 {floor} 元核定。",
        "{label} {wage} is below the {year} floor {floor}; the base is set to {floor}.",
    ),
    Rule(
        "WAGE_ABOVE_CEILING",
        W,
        "「{label}」{wage} 元高于 {year} 年缴费基数上限 {ceiling} 元，按上限 {ceiling} 元核定。",
        "{label} {wage} is above the {year} ceiling {ceiling}; the base is set to {ceiling}.",
    ),
    Rule(
        "WAGE_OUT_OF_RANGE",
        E,
        "「{label}」{wage} 元超出 {year} 年缴费基数范围 {floor}–{ceiling} 元，请核对。",
        "{label} {wage} is outside the {year} range {floor}–{ceiling}; please check.",
    ),
    Rule(
        "NO_BASE_LIMITS",
        E,
        "{year} 年度缴费基数上下限尚未设置，也没有可暂按执行的往年标准，暂不能办理，请联系经办机构。",
        "No contribution base limits are set for {year} nor for any earlier year to apply provisionally; "
        "please contact the agency office.",
    ),
    Rule(
        "LIMITS_PROVISIONAL",
        W,
        "{years} 年度缴费基数上下限尚未公布，暂按 {used} 年度标准（下限 {floor} 元、上限 {ceiling} 元）"
        "核定缴费基数；新标准公布后将重新核定，无需重新办理。",
        "The {years} contribution base limits are not published yet: the {used} limits ({floor}–{ceiling}) apply "
        "provisionally, and the base is re-assessed when they are published; nothing to do.",
    ),
    Rule(
        "NO_RATE",
        E,
        "{month} 的{insurance}费率尚未设置，暂不能办理，请联系经办机构。",
        "No {insurance} rate is in force for {month}; please contact the agency office.",
    ),
    Rule(
        "INJURY_BACKPAY_EXCLUDED",
        W,
        "工伤保险不能追溯补缴（不能覆盖已发生的事故）：补缴只含其他险种，工伤保险自「参保起始年月」起参保。",
        "Work-injury insurance cannot be paid back (it cannot cover accidents that already happened): "
        "the back payment covers the other types; work injury starts at the start month.",
    ),
    Rule(
        "INJURY_BACKPAY_NOT_ALLOWED",
        E,
        "工伤保险不能追溯补缴（不能覆盖已发生的事故）：仅参加工伤保险时请清空「补缴起始年月」和「补缴基数」。",
        "Work-injury insurance cannot be paid back (it cannot cover accidents that already happened): "
        "with work injury only, clear the back-payment fields.",
    ),
    Rule(
        "PHOTO_REQUIRED",
        E,
        "选择“是否制卡”为“是”时须上传照片，请点击「直接上传」。",
        "A photo is required when a social security card is wanted; use Upload.",
    ),
    # Rules that need the register (run at the audit).
    Rule(
        "ALREADY_CONTRIBUTING_HERE",
        E,
        "该人员已在本单位参加{insurance}并正常缴费，无需增员。",
        "The person already contributes to {insurance} at this employer.",
    ),
    Rule(
        "CONTRIBUTING_ELSEWHERE",
        E,
        "该人员正在其他单位参加{insurance}，须由原单位办理减员后才能增员。",
        "The person contributes to {insurance} at another employer; that employer must suspend first.",
    ),
    Rule(
        "TERMINATED",
        E,
        "该人员的参保关系已因{reason}终止，不能增员。",
        "The person's insurance was terminated ({reason}); no enrolment possible.",
    ),
    Rule(
        "PERSON_MISMATCH",
        E,
        "填写的「姓名」“{name}”与参保登记中该证件号码的姓名不一致，请核对姓名和证件号码。",
        "Name '{name}' does not match the name registered for this ID number; please check the name and the ID number.",
    ),
    Rule(
        "NOT_CONTRIBUTING_HERE",
        E,
        "该人员未在本单位参加{insurance}或已停保，不能减员。",
        "The person does not contribute to {insurance} at this employer.",
    ),
    Rule("STOP_TOO_LATE", E, "「停保年月」不能晚于 {latest}。", "Stop month may not be after {latest}."),
    Rule(
        "STOP_BEFORE_START",
        E,
        "「停保年月」{stop} 早于该人员在本单位的参保起始年月 {start}。",
        "Stop month {stop} is before the start month {start} at this employer.",
    ),
    # Locks and files.
    Rule(
        "DUPLICATE_IN_FILE",
        E,
        "同一人员在本次文件中出现多次（第 {rows} 行），请只保留一行。",
        "The same person appears on several rows of this file (rows {rows}); keep one.",
    ),
    Rule(
        "LOCKED_HERE",
        E,
        "该人员已有未办结的业务，流水号 {serial}。同一人员同一时间只能存在一条未审核通过的流水号，请先办结或退单该业务。",
        "The person has an open transaction {serial}; finish or cancel it first.",
    ),
    Rule(
        "LOCKED_ELSEWHERE",
        E,
        "该人员在其他单位有未办结的业务，暂不能办理。",
        "The person has open business at another employer; not possible now.",
    ),
    Rule(
        "DECLARATION_OPEN",
        E,
        "该人员 {year} 年度已有未办结的同类申报，流水号 {serial}。",
        "The person already has an open declaration for {year}: {serial}.",
    ),
    Rule(
        "OUTSIDE_WINDOW",
        E,
        "当前不在受理期内（每月 {first} 日至 {last} 日受理），请于 {reopen} 起提交。",
        "Outside the acceptance window (days {first}–{last} of each month); submit from {reopen}.",
    ),
    Rule("ALL_ROWS_FAILED", E, "全部人员审核失败", "All persons failed the audit"),
    Rule("CLERK_MARKED_FAILED", E, "经办机构审核不通过：{reason}", "Rejected by the agency office: {reason}"),
    Rule("CLERK_RETURNED", E, "经办机构回退：{reason}", "Returned by the agency office: {reason}"),
    Rule(
        "EXPIRED",
        E,
        "草稿超过 {days} 天未处理，系统自动退单。",
        "Draft untouched for {days} days; cancelled automatically.",
    ),
    Rule("CANCELLED_BY_AGENCY", E, "经办机构退单：{reason}", "Cancelled by the agency office: {reason}"),
    # System errors: a check or a background job raised. The reference finds the logged traceback.
    Rule(
        "ROW_INTERNAL_ERROR",
        E,
        "检查本行时发生系统错误（参考号 {ref}），本行未能导入或审核。请核对本行各项内容后重新办理；"
        "如仍出现此提示，请联系经办机构并提供参考号 {ref}。",
        "A system error stopped the check of this row (reference {ref}); the row was not imported or audited. "
        "Check the row's values and try again; if this message comes back, contact the agency office quoting "
        "reference {ref}.",
    ),
    Rule(
        "IMPORT_JOB_FAILED",
        E,
        "文件导入因系统错误未能完成（参考号 {ref}）。请点击「退单」后重新上传；"
        "如仍出现此提示，请联系经办机构并提供参考号 {ref}。",
        "A system error stopped the import of the file (reference {ref}). Click Cancel and upload the file again; "
        "if this message comes back, contact the agency office quoting reference {ref}.",
    ),
    Rule(
        "AUDIT_JOB_FAILED",
        E,
        "自动审核因系统错误未能完成（参考号 {ref}），业务已回退。请重新提交审批或退单；"
        "如仍出现此提示，请联系经办机构并提供参考号 {ref}。",
        "A system error stopped the automatic audit (reference {ref}); the transaction was returned. Submit it "
        "again or cancel it; if this message comes back, contact the agency office quoting reference {ref}.",
    ),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def render(code: str, field_name: str = "", params: dict | None = None, language: str | None = None) -> str:
    rule = RULES[code]
    lang = language or translation.get_language() or "zh-hans"
    template = rule.en if lang.startswith("en") else rule.zh
    values = {"label": field_name}
    for key, value in (params or {}).items():
        values[key] = _localise(value, lang)
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def _localise(value: object, lang: str) -> str:
    """Parameters may be {"zh": ..., "en": ...} pairs (labels) or plain values."""
    if isinstance(value, dict) and "zh" in value:
        return str(value["en"] if lang.startswith("en") else value["zh"])
    return str(value)


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


def issues_from(data: list[dict]) -> list[Issue]:
    return [Issue.from_dict(d) for d in data or []]


def messages(data: list[dict], language: str | None = None) -> list[str]:
    """Rendered '[CODE] message' lines for stored issues."""
    return [f"[{i.code}] {i.message(language)}" for i in issues_from(data)]


RULES["START_OVERLAP"] = Rule(
    "START_OVERLAP",
    E,
    "该人员{insurance}在 {month} 仍有参保记录（至 {end} 停保），「参保起始年月」不能早于 {end}。",
    "{insurance} is still on the register for {month} (until {end}); the start month may not be before {end}.",
)

# Whole-file refusals of a batch upload (shebao.batch): the file creates no transaction.
for _rule in [
    Rule(
        "FILE_EMPTY",
        E,
        "上传的文件是空的（0 字节），请选择填写好的模板文件。",
        "The uploaded file is empty; choose the filled-in template.",
    ),
    Rule(
        "FILE_TOO_LARGE",
        E,
        "文件大小 {size} MB 超过上限 {max} MB，请拆分为多个文件分别上传。",
        "The file is {size} MB, more than the {max} MB limit; split it into several files.",
    ),
    Rule(
        "FILE_NOT_SPREADSHEET",
        E,
        "上传的文件不是表格文件，系统只接受 Excel（.xlsx、.xls）或 CSV 文件，请使用「模板下载」的模板填写后上传。",
        "The file is not a spreadsheet; upload an Excel (.xlsx, .xls) or CSV file made from the template.",
    ),
    Rule(
        "FILE_ENCRYPTED",
        E,
        "该工作簿设置了打开密码（已加密），系统无法读取。请在 Excel 中取消密码保护后重新上传。",
        "The workbook is password-protected (encrypted); remove the password in Excel and upload it again.",
    ),
    Rule(
        "FILE_ZIP_BOMB",
        E,
        "文件解压后异常巨大（约 {size} MB，压缩比 {ratio} 倍），不是正常的表格文件，已拒绝。",
        "The file unpacks to about {size} MB (ratio {ratio}); it is not a normal spreadsheet and was refused.",
    ),
    Rule(
        "FILE_UNREADABLE",
        E,
        "文件无法读取，可能已损坏或不是有效的 Excel 文件。请用 Excel 打开后另存为 .xlsx 再上传。",
        "The file cannot be read; it may be damaged. Open it in Excel, save it as .xlsx and upload again.",
    ),
    Rule(
        "FILE_ENCODING",
        E,
        "CSV 文件的字符编码无法识别，请另存为“CSV UTF-8（逗号分隔）”或 GB18030/GBK 编码的 CSV 后上传，或直接上传 Excel 文件。",
        "The CSV file's character encoding is not recognised; save it as CSV UTF-8 or GB18030, or upload the Excel file.",
    ),
    Rule(
        "FILE_TOO_MANY_ROWS",
        E,
        "文件共有 {rows} 行数据，超过每个文件最多 {max} 行的限制，请拆分为多个文件上传。",
        "The file has {rows} data rows, more than the limit of {max}; split it into several files.",
    ),
    Rule(
        "FILE_NO_ROWS",
        E,
        "文件表头下方没有数据行，请填写人员信息后上传。",
        "The file has no data rows below the header; fill in the persons and upload again.",
    ),
    Rule(
        "FILE_WRONG_TEMPLATE",
        E,
        "文件不是「{business}」的导入模板{hint}，缺少必填列：{columns}。请使用本业务的「模板下载」。",
        "The file is not the {business} template{hint}; missing required columns: {columns}. Download this business's template.",
    ),
    Rule(
        "FILE_MISSING_COLUMNS",
        E,
        "文件缺少必填列：{columns}。列名须与模板一致（列的顺序可以不同），请补上这些列后重新上传。",
        "Missing required columns: {columns}. Column headers must match the template (any order).",
    ),
    Rule(
        "FILE_DUPLICATE_COLUMN",
        E,
        "文件中列名「{columns}」重复出现，系统无法确定使用哪一列，请删除多余的列后重新上传。",
        "The column header {columns} appears more than once; delete the extra column and upload again.",
    ),
]:
    RULES[_rule.code] = _rule

# 减员(暂停缴费) (appended by the suspension module).
RULES["STOP_AT_START"] = Rule(
    "STOP_AT_START",
    E,
    "「停保年月」{stop} 与该人员在本单位的参保起始年月相同：停保年月是第一个不缴费的月份，须晚于参保起始年月 {start}。"
    "如增员有误，请联系经办机构处理。",
    "Stop month {stop} equals the start month at this employer: the stop month is the first month without "
    "contribution and must be after the start month {start}. "
    "If the enrolment was a mistake, contact the agency office.",
)
RULES["DEATH_ALL_TYPES"] = Rule(
    "DEATH_ALL_TYPES",
    E,
    "减员原因为“04 死亡”时，「停保险种」须为全部险种，请留空「停保险种」。",
    "When the reason is 04 death, all insurance types stop: leave 'Insurance types stopped' blank.",
)
