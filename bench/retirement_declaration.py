#!/usr/bin/env python
"""退休人员待遇申报 (retiree_benefit) as a batch file end to end: upload → import screen → submit → finished (VIP).

    .venv/bin/python bench/retirement_declaration.py --db postgres --persons 1000
    .venv/bin/python bench/retirement_declaration.py --db sqlite   --persons 1000

Creates its own database and seeds one VIP employer with `--persons` persons who reach their
statutory retirement month (ParamSnapshot.retirement_month with the published rules, the 2025
reform's delay included) in the current month or in the previous month, alternately: men,
female workers and female cadres, born in the months whose statutory month is one of those
two, with valid Hubei resident IDs (birth date and sex digit matching) and Chinese names that
fit the sex. Each contributes to pension, medical and unemployment (relations) since
`--months` (186–195 by person) months before the current month, with regular pension and
medical ContributionLine rows for every month from the start through the current month
(COPY on PostgreSQL: about persons × 191 × 2 lines), so that the minimum contribution months
(180) are met and the estimate has a real history. Then, through the real pages (gunicorn
and both django-q2 clusters):

- upload → import screen: POST of an .xlsx with the template's headers (证件类型, 证件号码, 姓名,
  退休类别, 退休年月, 视同缴费月数, 特殊工种年限, 养老金发放银行, 银行账号, 联系电话; 正常退休, each
  person's statutory month, 0 deemed months, a bank, a 19-digit account, a mobile number) to the
  type's 批量办理 浏览/上传 page, until the transaction leaves 导入中 (polling every 100 ms);
- 提交审批 → 结束 (VIP, 正常退休: automatic): audit (eligibility and the pension estimate from
  every person's history) and apply (the retiree rows, their benefit items, the relations
  terminated, the lines after the retirement month voided), wall clock and the server's
  events (submit → the last audit chunk's heartbeat → audit_passed);
- the effect: persons Retiree rows with 3 benefit items each, every relation terminated with
  reason 03 from the month after the retirement month, no failed row (the failures and their
  rule codes are printed otherwise; warnings are tallied by code);
- peak RSS and CPU of the gunicorn processes and of every process of both clusters.

Goal (PostgreSQL): 1,000 retirements 提交审批 → 结束 ≤ 15 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.batch_import import csrf_of, post_form, post_multipart, wait_state  # noqa: E402
from bench.home_page import fetch, login  # noqa: E402

CODE = "retiree_benefit"
GOAL_SECONDS = 15
HEADERS = (
    "证件类型",
    "证件号码",
    "姓名",
    "退休类别",
    "退休年月",
    "视同缴费月数",
    "特殊工种年限",
    "养老金发放银行",
    "银行账号",
    "联系电话",
)
LINE_TYPES = ("pension", "medical")
RELATION_TYPES = ("pension", "medical", "unemployment")
MALE_GIVEN = "伟强磊军洋勇杰涛明超刚辉鹏斌波宇浩凯健俊峰建国建华志强晓东国庆卫东永刚文斌德明海涛"
FEMALE_GIVEN = "芳娜秀英敏静丽艳娟霞玲婷红梅燕萍琴慧莉桂英秀兰淑珍丽华春梅晓红美玲凤英"
BANKS = (
    "中国工商银行武汉江岸支行",
    "中国建设银行武汉汉口支行",
    "中国农业银行武汉江汉支行",
    "中国银行武汉武昌支行",
    "招商银行武汉分行营业部",
    "湖北银行武汉江岸支行",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--months", type=int, default=186, help="fewest contribution months before this one")
    parser.add_argument("--timeout", type=float, default=900, help="max seconds for the import and for the audit")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the import, stop the long cluster and run the audit (services.run_audit) of the submitted batch "
        "in this process under cProfile, with the time of every SQL statement by kind",
    )
    args = parser.parse_args()
    common.run_on_fresh_db(args, "retirement", run)


# --- who retires now ---------------------------------------------------------------------------


def birth_months(params, targets: tuple[dt.date, ...]) -> list[tuple[str, str, dt.date, dt.date]]:
    """(sex, identity, birth month, statutory month) for every category and birth month whose
    statutory retirement month is one of `targets`, from the published rules (reform included)."""
    from shebao.core.months import add_months

    out = []
    for sex, identity in (("1", "worker"), ("1", "cadre"), ("2", "worker"), ("2", "cadre")):
        month = dt.date(1950, 1, 1)
        while month < dt.date(1990, 1, 1):
            statutory = params.retirement_month(sex=sex, identity=identity, birth_date=month)
            if statutory in targets:
                out.append((sex, identity, month, statutory))
            month = add_months(month, 1)
    return out


def name_of(rng, sex: str) -> str:
    given = MALE_GIVEN if sex == "1" else FEMALE_GIVEN
    return rng.choice(common.SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def id_number_of(people: common.People, birth: dt.date, sex: str) -> str:
    """A unique, valid Hubei resident ID born on `birth` whose 17th digit has the sex's parity."""
    rng = people.rng
    while True:
        seq = rng.randrange(0, 500) * 2 + (1 if sex == "1" else 0)
        body = f"{rng.choice(common.REGIONS)}{birth:%Y%m%d}{seq:03d}"
        number = body + common.id_check_char(body)
        if number not in people.used:
            people.used.add(number)
            return number


def wage_of(n: int) -> Decimal:
    """The person's base: 5,000–13,999 yuan, inside the limits of every year."""
    return Decimal(5000 + (n * 37) % 9000)


# --- seeding -----------------------------------------------------------------------------------


def seed_register(employer_id: int, args, params, current: dt.date) -> dict:
    """Persons, relations and lines in the caller's transaction (the register's bulk path)."""
    from django.utils import timezone

    from shebao.core import bulk
    from shebao.core.money import fen
    from shebao.core.months import add_months, month_range
    from shebao.core.pinyin import name_sort_key
    from shebao.register.models import ContributionLine, Person, Relation

    now = timezone.now()
    last = add_months(current, -1)
    choices = birth_months(params, (last, current))
    by_target = {t: [c for c in choices if c[3] == t] for t in (last, current)}
    if not all(by_target.values()):
        raise SystemExit(f"no birth month retires in {last:%Y-%m} or {current:%Y-%m}: {choices}")
    people = common.People(args.persons)
    rng = people.rng
    plan = []  # (n, sex, identity, birth, statutory, start month)
    person_rows = []
    for n in range(args.persons):
        pool = by_target[last if n % 2 else current]
        sex, identity, birth_month, statutory = pool[(n // 2) % len(pool)]
        birth = birth_month.replace(day=rng.randrange(1, 29))
        number = id_number_of(people, birth, sex)
        name = name_of(rng, sex)
        start = add_months(current, -(args.months + n % 10))
        first_work = min(add_months(birth_month, 12 * rng.randrange(18, 24)), start)
        phone = f"1{rng.choice('3578')}{rng.randrange(0, 10**9):09d}"
        plan.append((n, sex, identity, birth, statutory, start, number, name, phone))
        person_rows.append(
            ("01", number, f"01:{number}", name, name_sort_key(name), sex, birth, "汉族", "urban", identity)
            + ("contract", first_work, phone, "武汉市江岸区沿江大道188号", now, now)
        )
    bulk.insert_rows(
        Person,
        [
            *("id_type", "id_number", "id_key", "name", "name_key", "sex", "birth_date", "ethnicity", "hukou"),
            *("identity", "employment_form", "first_work_date", "phone", "address", "created_at", "updated_at"),
        ],
        person_rows,
        batch_size=5000,
    )
    ids = dict(Person.objects.values_list("id_number", "pk"))
    relations = []
    for _n, _sex, _identity, _birth, _statutory, start, number, *_rest in plan:
        for itype in RELATION_TYPES:
            relations.append((ids[number], employer_id, itype, "contributing", start, "", now, now))
    bulk.insert_rows(
        Relation,
        [
            *("person_id", "employer_id", "insurance_type", "status", "start_month", "end_reason"),
            *("created_at", "updated_at"),
        ],
        relations,
        batch_size=20_000,
    )

    rates: dict[tuple[str, dt.date], tuple] = {}

    def rate_of(itype: str, month: dt.date) -> tuple:
        """(employer rate, personal rate, rate row id, limits row id) of a month: the rows in
        force; months before the published rows take today's rates, with no row named."""
        key = (itype, month)
        if key not in rates:
            pair = params.rate(itype, month)
            limits = params.base_limits(month.year, itype)
            now_pair = pair or params.rate(itype, current)
            rates[key] = (
                now_pair.employer,
                now_pair.personal,
                pair.rate_id if pair else None,
                limits.row_id if limits and not limits.provisional else None,
            )
        return rates[key]

    fields = [
        *("person_id", "employer_id", "month", "insurance_type", "kind", "base", "employer_amount"),
        *("personal_amount", "limits_id", "rate_id", "provisional"),
    ]
    lines, written = [], 0
    for n, _sex, _identity, _birth, _statutory, start, number, *_rest in plan:
        base = wage_of(n)
        for month in month_range(start, add_months(current, 1)):
            for itype in LINE_TYPES:
                employer_rate, personal_rate, rate_id, limits_id = rate_of(itype, month)
                lines.append(
                    (ids[number], employer_id, month, itype, "regular", base, fen(base * employer_rate))
                    + (fen(base * personal_rate), limits_id, rate_id, False)
                )
        if len(lines) >= 50_000:
            written += bulk.insert_rows(ContributionLine, fields, lines, batch_size=5000)
            lines = []
    written += bulk.insert_rows(ContributionLine, fields, lines, batch_size=5000)
    return {
        "plan": plan,
        "relations": len(relations),
        "lines": written,
        "categories": Counter((sex, identity) for _n, sex, identity, *_rest in plan),
        "targets": Counter(statutory for _n, _s, _i, _b, statutory, *_rest in plan),
    }


def seed(args):
    from django.db import transaction

    from shebao.core import clock
    from shebao.params.services import ParamSnapshot

    employer, user = common.seed_base(vip=True)
    current = clock.current_month()
    params = ParamSnapshot.load()
    t0 = time.perf_counter()
    with transaction.atomic():
        seeded = seed_register(employer.pk, args, params, current)
    t_rows = time.perf_counter() - t0
    common.vacuum_analyze()
    seconds = time.perf_counter() - t0
    # Every planned statutory month, checked again with the product's own reading of the person.
    from shebao.register.models import Person

    wrong = 0
    for person in Person.objects.all().iterator(chunk_size=2000):
        month = params.retirement_month(sex=person.sex, identity=person.identity, birth_date=person.birth_date)
        wrong += month not in seeded["targets"]
    if wrong:
        raise SystemExit(f"{wrong} seeded persons do not retire in the planned months")
    cats = ", ".join(
        f"{'男' if sex == '1' else '女'}{'干部' if identity == 'cadre' and sex == '2' else ''} {n}"
        for (sex, identity), n in sorted(seeded["categories"].items())
    )
    months = ", ".join(f"{m:%Y-%m} {n}" for m, n in sorted(seeded["targets"].items()))
    print(
        f"[bench] seeded {args.persons} persons ({cats}; statutory month {months}), {seeded['relations']} "
        f"relations, {seeded['lines']} pension and medical lines in {seconds:.1f} s "
        f"(rows {t_rows:.1f} s, analyze {seconds - t_rows:.1f} s)"
    )
    return employer, user, seeded, seconds


def write_file(path: Path, plan: list, seed: int) -> int:
    """The template's headers and one 正常退休 row per person, at the statutory month."""
    import random

    import xlsxwriter

    rng = random.Random(seed)
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet("退休人员待遇申报")
    for col, label in enumerate(HEADERS):
        sheet.write_string(0, col, label)
    r = 0
    for r, (_n, _sex, _identity, _birth, statutory, _start, number, name, phone) in enumerate(plan, start=1):
        account = "6222" + "".join(rng.choice("0123456789") for _ in range(15))
        for col, value in enumerate(
            ("居民身份证", number, name, "正常退休", f"{statutory:%Y-%m}", "0", "", rng.choice(BANKS), account, phone)
        ):
            if value != "":
                sheet.write_string(r, col, value)
    book.close()
    return r


def events_of(pk: int) -> dict:
    from shebao.workflow.models import Event

    return {e.action: e.at for e in Event.objects.filter(transaction_id=pk).order_by("at")}


# --- the effect --------------------------------------------------------------------------------


def verify(pk: int, employer, seeded: dict, current: dt.date) -> dict:
    """What the finished batch wrote, and the rows that failed (with their rule codes)."""
    from django.db.models import Count, F, Sum

    from shebao.core.months import add_months
    from shebao.register.models import ContributionLine, Relation, Retiree, RetireeBenefit
    from shebao.workflow.models import AuditStatus, Item, ItemStatus

    out: dict = {}
    items = Item.objects.filter(transaction_id=pk)
    out["import_failed"] = list(
        items.filter(status=ItemStatus.IMPORT_FAILED).order_by("row_no").values_list("row_no", "import_issues")
    )
    out["audit_failed"] = list(
        items.filter(status=ItemStatus.IMPORTED, audit_status=AuditStatus.FAILED)
        .order_by("row_no")
        .values_list("row_no", "audit_issues")
    )
    warnings: Counter = Counter()
    for issues in items.filter(audit_status=AuditStatus.PASSED).values_list("audit_issues", flat=True):
        warnings.update(issue["code"] for issue in issues or [])
    out["warnings"] = warnings
    retirees = Retiree.objects.filter(employer=employer, transaction_id=pk)
    out["retirees"] = retirees.count()
    out["benefits"] = RetireeBenefit.objects.filter(retiree__transaction_id=pk).count()
    out["three_items"] = retirees.annotate(n=Count("benefits")).filter(n=3).count()
    # The pension starts the month after the retirement month, checked month by month.
    planned = {number: statutory for *_a, statutory, _s, number, _name, _phone in seeded["plan"]}
    mismatched = 0
    for number, retire, start in retirees.values_list("person__id_number", "retire_month", "pension_start"):
        mismatched += retire != planned.get(number) or start != add_months(retire, 1)
    out["month_mismatch"] = mismatched
    relations = Relation.objects.filter(employer=employer)
    out["relations"] = relations.count()
    out["terminated_03"] = relations.filter(
        status="terminated", end_reason="03", end_month=F("person__retiree__pension_start")
    ).count()
    out["still_contributing"] = relations.filter(status="contributing").count()
    out["voided_lines"] = ContributionLine.objects.filter(voided_by_id=pk).count()
    out["expected_voided"] = len(LINE_TYPES) * sum(
        n for month, n in seeded["targets"].items() if add_months(month, 1) <= current
    )
    totals = sorted(
        RetireeBenefit.objects.filter(retiree__transaction_id=pk)
        .values("retiree_id")
        .annotate(total=Sum("monthly"))
        .values_list("total", flat=True)
    )
    out["pension_totals"] = totals
    return out


def print_failures(title: str, rows: list) -> None:
    codes: Counter = Counter()
    for _row_no, issues in rows:
        codes.update(issue.get("code", "?") for issue in issues or [])
    print(f"  {title}: {len(rows)} rows; rule codes {dict(codes.most_common())}")
    for row_no, issues in rows[:10]:
        print(f"    row {row_no}: {[(i.get('code'), i.get('field'), i.get('params')) for i in issues or []]}")


# --- where the time goes ------------------------------------------------------------------------


def profile_audit(pk: int) -> None:
    """services.run_audit of the submitted batch in this process, under cProfile, every SQL
    statement timed (grouped by its text with the numbers and lists taken out)."""
    import cProfile
    import pstats

    from django.db import connection

    from shebao.workflow import services

    sql: dict[str, list[float]] = {}

    def timed(execute, text, params, many, context):
        t = time.perf_counter()
        try:
            return execute(text, params, many, context)
        finally:
            key = re.sub(r"\(\s*(%s|\?)(\s*,\s*(%s|\?))*\s*\)", "(…)", text)
            key = re.sub(r"\b\d+\b", "N", key)
            sql.setdefault(key, []).append(time.perf_counter() - t)

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    with connection.execute_wrapper(timed):
        profiler.enable()
        outcome = services.run_audit(pk)
        profiler.disable()
    total = time.perf_counter() - t0
    spent = sum(sum(v) for v in sql.values())
    print(
        f"\n[profile] run_audit in this process: {outcome} in {total:.2f} s; SQL {spent:.2f} s in "
        f"{sum(len(v) for v in sql.values())} statements (cursor.execute only: a server-side cursor's "
        f"fetches are counted in Python)"
    )
    for key, times in sorted(sql.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  {sum(times):7.2f} s  {len(times):5d}×  {key[:220]}")
    print("[profile] functions by cumulative time:")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(r"shebao|django/db/models/(query|sql/compiler)", 30)
    print("[profile] functions by own time:")
    stats.sort_stats("tottime").print_stats(20)


# --- the run -----------------------------------------------------------------------------------


def run(args, db: common.BenchDB, procs: common.Procs) -> None:
    from django.db import connection
    from django.urls import reverse

    from shebao.core import clock
    from shebao.workflow.models import Transaction

    current = clock.current_month()
    employer, user, seeded, seed_s = seed(args)
    path = db.tmpdir / f"retiree_benefit_{args.persons}.xlsx"
    t0 = time.perf_counter()
    written = write_file(path, seeded["plan"], args.persons)
    print(
        f"[bench] wrote {path.name}: {written} rows, {path.stat().st_size / 1e3:.0f} kB in "
        f"{time.perf_counter() - t0:.2f} s"
    )

    clusters = common.start_qclusters(procs, db)
    server, base = common.start_gunicorn(procs, db, "--timeout", "300")
    common.wait_qclusters_ready(clusters)
    print(f"[bench] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sampler = common.RssSampler(
        {"gunicorn": server.pid, **{f"q-{k}": p.pid for k, p in clusters.items()}}, interval=0.1
    )
    sampler.start()
    cookie = login(base)
    upload_path = reverse("batch:upload", kwargs={"code": CODE})
    status, _body = fetch(base, upload_path, cookie)
    assert status == 200, f"upload page answered {status}"

    # Upload → import screen.
    data = path.read_bytes()
    t_upload = time.perf_counter()
    response = post_multipart(
        base, upload_path, cookie, {"csrfmiddlewaretoken": csrf_of(cookie)}, {"file": (path.name, data)}
    )
    request_s = time.perf_counter() - t_upload
    if response.status != 302:
        raise SystemExit(f"upload answered HTTP {response.status}; see {db.tmpdir / 'gunicorn.log'}")
    pk = int(re.search(r"/batch/(\d+)/", response.getheader("Location")).group(1))
    import_wait, state, import_polls = wait_state(base, pk, cookie, "importing", args.timeout)
    to_import = request_s + import_wait
    t_first = time.perf_counter()
    status, _body = fetch(base, f"/batch/{pk}/", cookie)
    first_page_s = time.perf_counter() - t_first
    counts = state.get("counts", {})
    print(
        f"[bench] upload request {request_s:.2f} s; import done after {to_import:.2f} s "
        f"(state {state.get('state')}, {counts.get('total')} rows, {counts.get('import_failed')} import failures); "
        f"import screen HTTP {status} rendered {first_page_s * 1000:.0f} ms later"
    )
    if state.get("state") != "saved" or counts.get("import_failed"):
        print(f"[bench] WARNING: import ended {state}; see {db.tmpdir}")

    if args.profile:
        # The long cluster would take the audit job: stop it, so this process runs the audit.
        os.killpg(clusters["long"].pid, signal.SIGTERM)
        try:
            clusters["long"].wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(clusters["long"].pid, signal.SIGKILL)
            clusters["long"].wait()

    # Submit → finished.
    t_submit = time.perf_counter()
    response = post_form(
        base,
        f"/batch/{pk}/action/",
        cookie,
        {"csrfmiddlewaretoken": csrf_of(cookie), "action": "submit", "version": state.get("version")},
    )
    submit_request_s = time.perf_counter() - t_submit
    if args.profile:
        profile_audit(pk)
    audit_wait, state, audit_polls = wait_state(base, pk, cookie, "auditing", args.timeout)
    if state.get("state") == "saved":  # the submit was refused: the state never left 已保存
        raise SystemExit(f"submit answered HTTP {response.status} and the batch is still saved; see {db.tmpdir}")
    to_finished = time.perf_counter() - t_submit
    sampler.stop()
    counts = state.get("counts", {})
    events = events_of(pk)
    tx = Transaction.objects.get(pk=pk)
    server_import = None
    if "import" in events and "create" in events:
        server_import = (events["import"] - events["create"]).total_seconds()
    end = next((events[a] for a in ("audit_passed", "to_review", "audit_returned") if a in events), None)
    server_audit = (end - events["submit"]).total_seconds() if end and "submit" in events else None
    # The last audit chunk's commit sets the heartbeat: submit → it is the rules and the estimate,
    # it → audit_passed the apply (retirees, benefit items, relations, voided lines).
    rules_s = apply_s = None
    if server_audit is not None and tx.heartbeat_at and tx.heartbeat_at >= events["submit"]:
        rules_s = (tx.heartbeat_at - events["submit"]).total_seconds()
        apply_s = (end - tx.heartbeat_at).total_seconds()
    print(
        f"[bench] submit request {submit_request_s:.2f} s (HTTP {response.status}); submit → {state.get('state')} "
        f"in {to_finished:.2f} s wall"
        + (f", {server_audit:.2f} s by the server's events" if server_audit is not None else "")
        + f" ({counts.get('passed')} passed, {counts.get('failed')} failed, {counts.get('applied')} applied)"
    )
    effect = verify(pk, employer, seeded, current)

    n = args.persons
    print(f"\n== 退休人员待遇申报 (retiree_benefit), {connection.vendor}, {n} persons, {current:%Y-%m} ==")
    print(f"  seeding (persons, relations, {seeded['lines']} lines, analyze) {seed_s:8.1f} s")
    print(
        f"  upload → import screen (left 导入中)          {to_import:8.2f} s"
        + (f"   (server: create → import events {server_import:.2f} s)" if server_import is not None else "")
    )
    print(f"  upload → import screen shown                 {to_import + first_page_s:8.2f} s")
    print(
        f"  提交审批 → {state.get('state')} (wall, polling)       {to_finished:8.2f} s"
        + (f"   (server: submit → finish events {server_audit:.2f} s)" if server_audit is not None else "")
    )
    if rules_s is not None:
        print(f"    of it the audit (submit → last chunk)      {rules_s:8.2f} s")
        print(f"    of it the apply (last chunk → audit_passed){apply_s:8.2f} s")
    print(f"    of it the submit request (提交审批 POST)     {submit_request_s:8.2f} s")
    print(f"  retirees written                             {effect['retirees']:8d}   (expected {n})")
    print(f"  benefit items written                        {effect['benefits']:8d}   (expected {3 * n})")
    print(f"  retirees with exactly 3 items                {effect['three_items']:8d}")
    print(f"  retire month ≠ statutory or start ≠ next     {effect['month_mismatch']:8d}")
    print(
        f"  relations terminated 03 from the next month  {effect['terminated_03']:8d}   "
        f"(of {effect['relations']}; {effect['still_contributing']} still contributing)"
    )
    print(
        f"  lines voided (after the retirement month)    {effect['voided_lines']:8d}   "
        f"(expected {effect['expected_voided']})"
    )
    totals = effect["pension_totals"]
    if totals:
        print(
            f"  estimated monthly pension (sum of items)     min {totals[0]:.2f}, "
            f"median {totals[len(totals) // 2]:.2f}, max {totals[-1]:.2f} yuan"
        )
    print(f"  warnings on passed rows                      {dict(effect['warnings'].most_common()) or 'none'}")
    if effect["import_failed"]:
        print_failures("IMPORT FAILED", effect["import_failed"])
    if effect["audit_failed"]:
        print_failures("AUDIT FAILED", effect["audit_failed"])
    if not effect["import_failed"] and not effect["audit_failed"]:
        print("  failed rows                                         0")
    for label, polls in (("while importing", import_polls), ("while auditing and applying", audit_polls)):
        print(
            f"  progress polls {label:28s} {len(polls):5d}, p95 {common.percentile(polls, 95) * 1000:6.1f} ms, "
            f"slowest {max(polls) * 1000:7.1f} ms"
        )
    rows = sampler.report()
    roles = sampler.roles()
    by_kind: dict[str, float] = {}
    for group, pid, _label, mb in rows:
        kind = f"{group} {roles.get(pid, '')}".strip()
        by_kind[kind] = max(by_kind.get(kind, 0.0), mb)
    print("  peak RSS per process kind:")
    for kind, mb in sorted(by_kind.items()):
        print(f"    {kind:50s} {mb:8.1f} MB")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    finished = state.get("state") == "finished"
    print("  goals" + (" (binding on PostgreSQL)" if connection.vendor != "postgresql" else "") + ":")
    print(f"    提交审批 → 结束 ≤ {GOAL_SECONDS} s: {verdict(finished and to_finished <= GOAL_SECONDS)}")
    complete = (
        effect["retirees"] == n
        and effect["benefits"] == 3 * n
        and effect["three_items"] == n
        and effect["terminated_03"] == len(RELATION_TYPES) * n
        and not effect["month_mismatch"]
        and not effect["import_failed"]
        and not effect["audit_failed"]
    )
    print(f"    every person retired with 3 items, relations terminated 03, no failed row: {verdict(complete)}")
    print(f"[bench] load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
