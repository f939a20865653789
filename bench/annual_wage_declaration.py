#!/usr/bin/env python
"""个人工资年度申报 (annual_wage) as a batch file end to end: upload → import screen → submit → finished (VIP).

    .venv/bin/python bench/annual_wage_declaration.py --db postgres --persons 10000
    .venv/bin/python bench/annual_wage_declaration.py --db sqlite   --persons 10000
    .venv/bin/python bench/annual_wage_declaration.py --db postgres --persons 100000

Creates its own database and seeds one VIP employer with `--persons` persons contributing
since January of this year to the five insurance types, with a base of the previous year only
(as common.seed_contributing with base_year = year − 1, but with valid Hubei resident IDs and
Chinese names, which the file's rows must pass), assesses January
to May of this year (so the declared year has lines, on last year's wage clamped to this
year's limits) and opens this year's declaration window. Then, through the real pages
(gunicorn and both django-q2 clusters):

- upload → import screen: POST of an .xlsx (证件类型, 证件号码, 姓名, 上年度月平均工资: every
  person, last year's wage + 500) to 浏览/上传 with 申报年度 = this year, until the transaction
  leaves 导入中 (polling the page's status URL every 100 ms);
- 提交审批 → 结束 (VIP: audit, then the re-base of the year's bases and the adjustment lines
  of January to May), wall clock and the server's submit → finish events;
- the adjustment lines written (expected persons × 5 types × 5 months);
- peak RSS and CPU of the gunicorn processes and of every process of both clusters.

Goals (PostgreSQL): 100,000 persons: upload → import screen ≤ 15 s, 提交审批 → 结束 ≤ 120 s,
no process above 600 MB; 10,000 persons: ≤ 2 s and ≤ 15 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.batch_import import csrf_of, post_form, post_multipart, wait_state  # noqa: E402
from bench.home_page import fetch, login  # noqa: E402

CODE = "annual_wage"
MONTHS = 5  # January to May assessed
RAISE = Decimal(500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_db_args(parser)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=900, help="max seconds for the import and for the audit")
    args = parser.parse_args()
    common.run_on_fresh_db(args, "annual_wage", run)


def wage_of(n: int) -> Decimal:
    """Last year's declared wage: 6,000–15,999 yuan, inside the limits even with the raise."""
    return Decimal(6000 + (n * 37) % 10000)


def seed_contributing(employer_id: int, persons: int, *, start: dt.date, base_year: int, seed: int) -> int:
    """common.seed_contributing with what a file's rows must pass: valid, unique Hubei resident
    IDs (common.People) and Chinese names, sex and birth date matching the ID (its synthetic
    IDs have a birth date 1990-00-0x, refused by the import). Every person contributes to the
    five insurance types since `start` with a base of `base_year` (wage_of(n)); model fields
    that COPY would leave NULL (a BooleanField added with a default) are written with their
    default. Returns the number of relations."""
    from django.utils import timezone

    from shebao.core import bulk
    from shebao.core.choices import ALL_INSURANCE
    from shebao.core.pinyin import name_sort_key
    from shebao.register.models import ContributionBase, Person, Relation

    now = timezone.now()
    people = common.People(seed)

    def person_rows():
        for _n in range(persons):
            number, birth = people.id_number()
            name = people.name()
            sex = "1" if int(number[16]) % 2 else "2"
            yield ("01", number, f"01:{number}", name, name_sort_key(name), sex, birth) + ("",) * 6 + (now, now)

    bulk.insert_rows(
        Person,
        [
            *("id_type", "id_number", "id_key", "name", "name_key", "sex", "birth_date"),
            *("ethnicity", "hukou", "identity", "employment_form", "phone", "address", "created_at", "updated_at"),
        ],
        person_rows(),
        batch_size=20_000,
    )
    person_ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    base_fields = [
        *("person_id", "employer_id", "year", "insurance_type", "declared_wage", "base", "provisional"),
        *("created_at", "updated_at"),
    ]
    extra = [
        f
        for f in ContributionBase._meta.concrete_fields
        if f.attname not in base_fields and f.attname != "id" and f.has_default() and not f.null
    ]
    relations, bases = [], []
    for n, person_id in enumerate(person_ids):
        wage = wage_of(n)
        for itype in ALL_INSURANCE:
            relations.append((person_id, employer_id, itype, "contributing", start, "", now, now))
            bases.append(
                (person_id, employer_id, base_year, itype, wage, wage, False, now, now)
                + tuple(f.get_default() for f in extra)
            )
    bulk.insert_rows(
        Relation,
        [
            *("person_id", "employer_id", "insurance_type", "status", "start_month", "end_reason"),
            *("created_at", "updated_at"),
        ],
        relations,
        batch_size=20_000,
    )
    bulk.insert_rows(ContributionBase, base_fields + [f.attname for f in extra], bases, batch_size=20_000)
    return len(relations)


def seed(args, year: int):
    from django.db import transaction

    from shebao.params.models import DeclarationWindow
    from shebao.register import assessment
    from shebao.register.models import ContributionBase, ContributionLine

    employer, user = common.seed_base(vip=True)
    t0 = time.perf_counter()
    with transaction.atomic():
        relations = seed_contributing(
            employer.pk, args.persons, start=dt.date(year, 1, 1), base_year=year - 1, seed=args.persons
        )
    t_persons = time.perf_counter() - t0
    for month in range(1, MONTHS + 1):
        assessment.assess_month(dt.date(year, month, 1))
    DeclarationWindow.objects.update_or_create(
        year=year, defaults={"opens": dt.date(year, 1, 1), "closes": dt.date(year, 12, 31), "note": "bench"}
    )
    common.vacuum_analyze()
    seconds = time.perf_counter() - t0
    lines = ContributionLine.objects.count()
    bases_now = ContributionBase.objects.filter(year=year).count()
    print(
        f"[bench] seeded {args.persons} persons, {relations} relations (bases of {year - 1} only: "
        f"{bases_now} of {year}), {lines} lines of {year}-01..{year}-{MONTHS:02d} in {seconds:.1f} s "
        f"(persons/relations/bases {t_persons:.1f} s, assessment and analyze {seconds - t_persons:.1f} s)"
    )
    return employer, user, seconds


def write_file(path: Path, employer, year: int) -> int:
    """证件类型, 证件号码, 姓名, 上年度月平均工资 for every person of the employer, last year's
    declared wage + 500, streamed from the database into a constant-memory workbook."""
    import xlsxwriter

    from shebao.register.models import ContributionBase

    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet("个人工资年度申报")
    for col, label in enumerate(("证件类型", "证件号码", "姓名", "上年度月平均工资")):
        sheet.write_string(0, col, label)
    rows = (
        ContributionBase.objects.filter(employer=employer, year=year - 1, insurance_type="pension")
        .order_by("person_id")
        .values_list("person__id_number", "person__name", "declared_wage")
    )
    r = 0
    for r, (number, name, wage) in enumerate(rows.iterator(chunk_size=5000), start=1):
        sheet.write_string(r, 0, "居民身份证")
        sheet.write_string(r, 1, number)
        sheet.write_string(r, 2, name)
        sheet.write_number(r, 3, float(wage + RAISE))
    book.close()
    return r


def events_of(pk: int) -> dict:
    from shebao.workflow.models import Event

    return {e.action: e.at for e in Event.objects.filter(transaction_id=pk).order_by("at")}


def run(args, db: common.BenchDB, procs: common.Procs) -> None:
    from django.db import connection
    from django.urls import reverse

    from shebao.core import clock
    from shebao.register.models import ContributionBase, ContributionLine, LineKind

    year = clock.current_month().year
    employer, user, seed_s = seed(args, year)
    path = db.tmpdir / f"annual_wage_{args.persons}.xlsx"
    t0 = time.perf_counter()
    written = write_file(path, employer, year)
    print(
        f"[bench] wrote {path.name}: {written} rows, {path.stat().st_size / 1e6:.1f} MB in "
        f"{time.perf_counter() - t0:.1f} s"
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
        base,
        upload_path,
        cookie,
        {"csrfmiddlewaretoken": csrf_of(cookie), "year": str(year)},
        {"file": (path.name, data)},
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

    # Submit → finished.
    t_submit = time.perf_counter()
    response = post_form(
        base,
        f"/batch/{pk}/action/",
        cookie,
        {"csrfmiddlewaretoken": csrf_of(cookie), "action": "submit", "version": state.get("version")},
    )
    submit_request_s = time.perf_counter() - t_submit
    audit_wait, state, audit_polls = wait_state(base, pk, cookie, "auditing", args.timeout)
    if state.get("state") == "saved":  # the submit was refused: the state never left 已保存
        raise SystemExit(f"submit answered HTTP {response.status} and the batch is still saved; see {db.tmpdir}")
    to_finished = time.perf_counter() - t_submit
    sampler.stop()
    counts = state.get("counts", {})
    events = events_of(pk)
    server_import = None
    if "import" in events and "create" in events:
        server_import = (events["import"] - events["create"]).total_seconds()
    end = next((events[a] for a in ("audit_passed", "to_review", "audit_returned") if a in events), None)
    server_audit = (end - events["submit"]).total_seconds() if end and "submit" in events else None
    adjustments = ContributionLine.objects.filter(kind=LineKind.ADJUSTMENT).count()
    new_bases = ContributionBase.objects.filter(year=year).count()
    expected = args.persons * 5 * MONTHS
    print(
        f"[bench] submit request {submit_request_s:.2f} s (HTTP {response.status}); submit → {state.get('state')} "
        f"in {to_finished:.2f} s wall"
        + (f", {server_audit:.2f} s by the server's events" if server_audit is not None else "")
        + f" ({counts.get('passed')} passed, {counts.get('failed')} failed, {counts.get('applied')} applied)"
    )

    print(f"\n== 个人工资年度申报 (annual_wage), {connection.vendor}, {args.persons} persons, {year} ==")
    print(f"  seeding (persons, relations, bases, Jan–May assessed, analyze) {seed_s:8.1f} s")
    print(
        f"  upload → import screen (left 导入中)          {to_import:8.2f} s"
        + (f"   (server: create → import events {server_import:.2f} s)" if server_import is not None else "")
    )
    print(f"  upload → import screen shown                 {to_import + first_page_s:8.2f} s")
    print(
        f"  提交审批 → {state.get('state')} (wall, polling)       {to_finished:8.2f} s"
        + (f"   (server: submit → finish events {server_audit:.2f} s)" if server_audit is not None else "")
    )
    print(f"    of it the submit request (提交审批 POST)     {submit_request_s:8.2f} s")
    print(f"  bases of {year} written                       {new_bases:8d}   (expected {args.persons * 5})")
    print(f"  adjustment lines (kind=adjustment)           {adjustments:8d}   (expected {expected})")
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
    peak = max(by_kind.values()) if by_kind else 0.0

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    goals = {10_000: (2, 15), 100_000: (15, 120)}.get(args.persons)
    print("  goals" + (" (binding on PostgreSQL)" if connection.vendor != "postgresql" else "") + ":")
    if goals:
        print(f"    upload → import screen ≤ {goals[0]} s: {verdict(to_import <= goals[0])}")
        finished = to_finished <= goals[1] and state.get("state") == "finished"
        print(f"    提交审批 → 结束 ≤ {goals[1]} s: {verdict(finished)}")
    print(f"    no process above 600 MB: {verdict(peak <= 600)}")
    print(f"    adjustment lines = persons × 5 types × {MONTHS} months: {verdict(adjustments == expected)}")
    print(f"[bench] load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
