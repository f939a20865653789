"""Batch import benchmark (not a test): generate an N-row 增员 file and time each stage.

    SHEBAO_VAR_DIR=/tmp/bb DATABASE_URL=sqlite:////tmp/bb/b.sqlite3 .venv/bin/python tests/batch/bench_import.py 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_batch .venv/bin/python tests/batch/bench_import.py 10000

The database named by DATABASE_URL is migrated and written to: use a scratch one. Prints
wall and CPU seconds for the request-time checks, the reader alone, the import job (the
worker's part) and submit → finished for a VIP employer, and the peak RSS.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main(n: int) -> None:
    import django

    django.setup()
    import xlsxwriter
    from django.core.management import call_command
    from django.utils import timezone

    from shebao.core.months import current_month, format_month
    from shebao.demo.management.commands.seed_demo import seed_illustrative_limits, seed_published_parameters
    from tests.factories import EmployerFactory, OfficeFactory, OperatorFactory, make_resident_id

    call_command("migrate", verbosity=0)
    seed_published_parameters()
    seed_illustrative_limits(list(range(2023, timezone.localdate().year + 2)))
    employer = EmployerFactory(office=OfficeFactory(), is_vip=True)
    user = OperatorFactory(employer=employer)
    headers = [
        "证件类型",
        "证件号码",
        "姓名",
        "性别",
        "出生日期",
        "户口性质",
        "个人身份",
        "用工形式",
        "参加工作日期",
        "参保起始年月",
        "申报月工资",
        "参保险种",
        "联系电话",
        "联系地址",
        "是否制卡",
        "补缴起始年月",
        "补缴基数",
    ]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, headers)
    start = format_month(current_month())
    for i in range(1, n + 1):
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=i % 10000)
        number = make_resident_id(birth, "1" if i % 2 else "2", i // 10000, region=f"42{(i // 20000) % 10 + 1:02d}02")
        sheet.write_row(
            i,
            0,
            [
                "居民身份证",
                number,
                "王小明",
                "",
                "",
                "城镇" if i % 3 else "农村",
                "工人",
                "劳动合同",
                "2015-07-01",
                start,
                f"{6000 + i % 5000:,}.00",
                "",
                f"138{i:08d}",
                "武汉市江岸区沿江大道1号",
                "否",
                "",
                "",
            ],
        )
    book.close()
    data = out.getvalue()
    print(f"rows {n}, file {len(data) / 1e6:.1f} MB")

    from shebao.batch import reader, services
    from shebao.workflow import registry
    from shebao.workflow import services as engine

    def timed(label, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        print(f"{label:<34} wall {time.perf_counter() - wall:6.2f}s  cpu {time.process_time() - cpu:6.2f}s")
        return result

    business = registry.get("enrol")
    layout = timed("request checks (inspect)", lambda: reader.inspect(data, business))
    timed("spreadsheet reader alone", lambda: sum(1 for _ in reader.iter_rows(data, layout)))
    tx = timed(
        "upload request (checks + create)",
        lambda: services.batch_upload(
            employer=employer, actor=user, business_type="enrol", filename="bench.xlsx", data=data
        ),
    )
    timed("import job", lambda: services.run_import(tx.pk))
    tx.refresh_from_db()
    print(f"  state {tx.state}, rows {tx.total_count}, import failures {tx.import_failed_count}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    timed(
        "submit → finished (VIP, audit job)",
        lambda: (engine.transaction_submit(tx=tx, actor=user, version=tx.version), engine.run_audit(tx.pk)),
    )
    tx.refresh_from_db()
    print(f"  state {tx.state}, applied {tx.applied_count}, audit failures {tx.audit_failed_count}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
