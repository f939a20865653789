"""Demo data shared by `manage.py seed_demo` and `manage.py rundemo`: offices, employers, logins.

Everything here is fictitious except the parameter rows seeded by params migration 0002.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from shebao.core.identity import ID_CHECK, ID_WEIGHTS, USCC_CHARS, USCC_WEIGHTS, check_resident_id, check_uscc

DEMO_PASSWORD = "Demo#Pass2026"
# A read-write API token of the demo VIP employer, known to everyone like the demo password
# (示例数据: only seed_demo creates it), so that /api/v1/ can be tried at once.
DEMO_API_TOKEN = "sb_demo0001_" + "shebaodemotokenforthedemoemployeronly0000"
DEMO_API_EMPLOYER = "10000001"
DEMO_API_ADMIN = "vip_admin"
DEMO_SEED = 20260101
DEMO_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class OfficeSpec:
    code: str
    name: str
    address: str
    hours: str
    phone: str


@dataclass(frozen=True)
class EmployerSpec:
    number: str
    name: str
    office_code: str
    is_vip: bool
    risk_class: int
    contact_name: str
    contact_phone: str
    address: str
    org_serial: int  # feeds the fictitious credit code


@dataclass(frozen=True)
class LoginSpec:
    username: str
    full_name: str
    role: str  # operator / clerk / admin
    employer_number: str = ""
    office_code: str = ""
    description: str = ""


HOURS = "周一至周五 9:00-12:00 13:30-17:00"
OFFICES = [
    OfficeSpec("420102", "江岸区社会保险管理处", "武汉市江岸区沿江大道188号社保服务大厅2楼", HOURS, "027-82700001"),
    OfficeSpec("420106", "武昌区社会保险管理处", "武汉市武昌区中山路318号社保服务中心1楼", HOURS, "027-88800002"),
]

EMPLOYERS = [
    EmployerSpec(
        "10000001",
        "武汉长江数智科技有限公司",
        "420102",
        True,
        1,
        "李晓峰",
        "027-82711111",
        "武汉市江岸区解放大道1688号",
        1,
    ),
    EmployerSpec(
        "10000002", "武汉江岸汇通商贸有限公司", "420102", False, 2, "陈丽", "027-82722222", "武汉市江岸区胜利街56号", 2
    ),
    EmployerSpec(
        "10000003",
        "武汉武昌楚天建设工程有限公司",
        "420106",
        False,
        4,
        "王建国",
        "027-88833333",
        "武汉市武昌区和平大道905号",
        3,
    ),
]

LOGINS = [
    LoginSpec("vip_admin", "李晓峰", "operator", employer_number="10000001", description="VIP单位管理员"),
    LoginSpec("ord_admin", "陈丽", "operator", employer_number="10000002", description="普通单位管理员"),
    LoginSpec("wc_admin", "王建国", "operator", employer_number="10000003", description="武昌区普通单位管理员"),
    LoginSpec("clerk1", "赵敏", "clerk", office_code="420102", description="江岸区社会保险管理处审核人员"),
    LoginSpec("clerk2", "孙磊", "clerk", office_code="420106", description="武昌区社会保险管理处审核人员"),
    LoginSpec("sysadmin", "系统管理员", "admin", description="系统管理员（/admin/：单位、用户、业务参数与现行参数）"),
]


def credit_code(division: str, serial: int) -> str:
    """A fictitious 统一社会信用代码 with a correct GB 32100 check character."""
    body = f"91{division}MA4K{serial:05d}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    code = body + USCC_CHARS[(31 - total % 31) % 31]
    assert check_uscc(code)[1] is None, code
    return code


def resident_id(area: str, birth: dt.date, serial: int, sex: str) -> str:
    """An 18-character 居民身份证 number with a correct GB 11643 check character."""
    # The 17th digit is odd for men and even for women.
    seq = serial % 100 * 10 + (1 if sex == "1" else 0) + (serial // 100 % 5) * 2
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    number = first17 + ID_CHECK[total % 11]
    assert check_resident_id(number).error is None, number
    return number


SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯俊帆健龙林峰建国志晨阳亮东文博翔海彬")
GIVEN_FEMALE = list("芳娜敏静丽艳娟霞秀玲桂英红梅琳颖慧莉雪婷倩洁瑶璐佳欣怡萍燕琴蕾月晶丹雯妍雅")
# Wuhan districts first (most employees), then elsewhere in Hubei and neighbouring provinces.
AREAS = [
    "420102",
    "420103",
    "420104",
    "420105",
    "420106",
    "420107",
    "420111",
    "420112",
    "420115",
    "420116",
    "420117",
] * 3 + [
    "420202",
    "420502",
    "420602",
    "420704",
    "420802",
    "420902",
    "421002",
    "421102",
    "421202",
    "430102",
    "410105",
    "360102",
    "500103",
    "340104",
    "510104",
    "440305",
]
ETHNICITIES = ["汉族"] * 18 + ["土家族", "回族"]
STREETS = [
    "解放大道",
    "中山大道",
    "建设大道",
    "发展大道",
    "沿江大道",
    "武珞路",
    "珞喻路",
    "和平大道",
    "汉阳大道",
    "长江日报路",
    "新华路",
    "黄孝河路",
]


def person_name(rng: random.Random, sex: str) -> str:
    given = GIVEN_MALE if sex == "1" else GIVEN_FEMALE
    name = rng.choice(SURNAMES) + rng.choice(given)
    if rng.random() < 0.7:
        name += rng.choice(given)
    return name


def phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choice("0123456789") for _ in range(9))


DISTRICTS = ["江岸区", "江汉区", "硚口区", "武昌区", "洪山区"]


def address(rng: random.Random) -> str:
    return f"武汉市{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 999)}号"


def _pad(text: str, width: int) -> str:
    """Pad to a display width: CJK characters take two terminal columns."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def logins_table() -> str:
    from shebao.employers.models import Employer

    names = dict(Employer.objects.filter(number__in=[s.number for s in EMPLOYERS]).values_list("number", "name"))
    lines = [
        f"Shebao demo: {DEMO_URL}/accounts/login/    password of every demo login: {DEMO_PASSWORD}",
        _pad("单位编号", 11) + _pad("用户名", 12) + _pad("角色", 10) + "说明",
    ]
    for spec in LOGINS:
        detail = spec.description
        if spec.employer_number:
            detail += f"：{names.get(spec.employer_number, '')}"
        lines.append(_pad(spec.employer_number or "-", 11) + _pad(spec.username, 12) + _pad(spec.role, 10) + detail)
    lines.append("Clerks and the administrator leave 单位编号 empty; clerks land on /backoffice/, sysadmin on /admin/.")
    lines.append(
        f"API: {DEMO_URL}/api/v1/docs    token of {DEMO_API_EMPLOYER} (读写): Authorization: Bearer {DEMO_API_TOKEN}"
    )
    return "\n".join(lines)
