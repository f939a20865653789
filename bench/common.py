"""Shared plumbing for the bench scripts: a fresh database, seeding, real processes, RSS sampling.

Every script creates its own database (PostgreSQL `bench_shebao*` dropped and created
through psycopg, or a SQLite file in a temporary directory), migrates it, seeds the
published parameters, and starts real processes (django-q2 clusters, gunicorn) against it.
Nothing here is imported by the product.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "Xx-Pass-2026!"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- database ---------------------------------------------------------------------------------


@dataclass
class BenchDB:
    kind: str  # postgres | sqlite
    name: str
    url: str
    tmpdir: Path
    keep: bool = False
    env: dict = field(default_factory=dict)

    def drop(self) -> None:
        if self.keep:
            print(f"[bench] kept database {self.url}")
            return
        if self.kind == "postgres":
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def add_db_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--db-name", default="", help="PostgreSQL database name (default bench_shebao_<script>)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for inspection)")


def create_db(args, script: str) -> BenchDB:
    """A fresh database, the environment pointing at it (for this process and children), migrated."""
    tmpdir = Path(tempfile.mkdtemp(prefix=f"bench_{script}_"))
    name = args.db_name or f"bench_shebao_{script}"
    if args.db == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + f"/{name}"
    else:
        url = f"sqlite://{tmpdir / 'bench.sqlite3'}"
    env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SHEBAO_VAR_DIR": str(tmpdir / "var"),
        "DEBUG": "0",  # DEBUG keeps every query in memory: not what production runs
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    db = BenchDB(args.db, name, url, tmpdir, keep=args.keep, env=env)
    import django

    django.setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"[bench] {args.db} database {name if args.db == 'postgres' else url} migrated in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return db


def child_env(db: BenchDB, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(db.env)
    env.update(extra)
    return env


# --- seeding ------------------------------------------------------------------------------------


def seed_base(*, vip: bool = True, employer_number: str = "10000001"):
    """Published parameters, illustrative limits for the years in use, an office, an employer
    and one operator (must_change_password off). Returns (employer, operator)."""
    from django.utils import timezone

    from shebao.accounts.models import Membership, Role, User
    from shebao.demo.data import credit_code
    from shebao.demo.management.commands.seed_demo import seed_illustrative_limits, seed_published_parameters
    from shebao.employers.models import Employer, Office

    seed_published_parameters()
    seed_illustrative_limits(list(range(2023, timezone.localdate().year + 2)))
    office, _ = Office.objects.get_or_create(
        code="420102",
        defaults={
            "name": "江岸区社会保险管理处",
            "address": "武汉市江岸区沿江大道188号",
            "hours": "周一至周五 9:00-17:00",
        },
    )
    employer = Employer.objects.create(
        number=employer_number,
        name="武汉市压测科技有限公司",
        credit_code=credit_code("420102", 1),
        office=office,
        is_vip=vip,
    )
    user = User.objects.create_user(username="bench", password=PASSWORD, role=Role.OPERATOR, must_change_password=False)
    Membership.objects.create(user=user, employer=employer, is_admin=True)
    return employer, user


def vacuum_analyze() -> None:
    """What autovacuum does to a live database: fresh statistics and visibility maps after a
    bulk seed, so the plans measured are the plans production gets."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- realistic people ------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞鹏玲辉婷建国建华红梅志强晓东海燕俊杰欣怡子涵浩然雨轩思远"
)
# Hubei districts (the ID's first six digits), so the numbers look like Wuhan's.
REGIONS = [
    "420102",
    "420103",
    "420104",
    "420105",
    "420106",
    "420107",
    "420111",
    "420112",
    "420113",
    "420115",
    "420116",
    "420117",
    "420281",
    "420381",
    "420502",
    "420602",
    "420703",
    "420802",
    "420902",
    "421002",
]


def id_check_char(first17: str) -> str:
    from shebao.core.identity import id_check_char as check

    return check(first17)


class People:
    """Deterministic, unique, valid resident IDs and plausible rows (random.Random(seed))."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def id_number(self) -> tuple[str, dt.date]:
        rng = self.rng
        while True:
            # Born 1980..2003: all of working age, none past retirement.
            birth = dt.date(1980, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 24))
            body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
            number = body + id_check_char(body)
            if number not in self.used:
                self.used.add(number)
                return number, birth

    def name(self) -> str:
        rng = self.rng
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        return rng.choice(SURNAMES) + given

    def enrol_raw(self, start_month: str) -> dict:
        """The single-form raw dict (codes), as the 单个办理 form posts it."""
        rng = self.rng
        number, birth = self.id_number()
        work = max(birth + dt.timedelta(days=18 * 366), dt.date(1995, 1, 1)) + dt.timedelta(days=rng.randrange(0, 900))
        return {
            "id_type": "01",
            "id_number": number,
            "name": self.name(),
            "hukou": rng.choice(["urban", "rural"]),
            "identity": rng.choice(["worker", "worker", "cadre"]),
            "employment_form": rng.choice(["contract", "contract", "contract", "dispatch"]),
            "first_work_date": work.isoformat(),
            "start_month": start_month,
            "wage": f"{rng.randrange(4500, 20000)}.{rng.choice(['00', '50'])}",
            "insurance_types": "",
            "phone": f"1{rng.choice('3578')}{rng.randrange(0, 10**9):09d}",
            "address": "",
        }

    def template_row(self, start_month: str) -> dict:
        """A row in the template's words (Chinese labels), keyed by field name."""
        raw = self.enrol_raw(start_month)
        labels = {
            "urban": "城镇",
            "rural": "农村",
            "worker": "工人",
            "cadre": "干部",
            "contract": "劳动合同",
            "dispatch": "劳务派遣",
        }
        return {
            "id_type": "居民身份证",
            "id_number": raw["id_number"],
            "name": raw["name"],
            "sex": "",
            "birth_date": "",
            "hukou": labels[raw["hukou"]],
            "identity": labels[raw["identity"]],
            "employment_form": labels[raw["employment_form"]],
            "first_work_date": raw["first_work_date"],
            "start_month": start_month,
            "wage": raw["wage"],
            "insurance_types": "",
            "phone": raw["phone"],
            "address": f"武汉市江岸区沿江大道{self.rng.randrange(1, 999)}号",
            "make_card": "否",
            "backpay_from": "",
            "backpay_base": "",
        }


def write_enrol_file(path: Path, rows: int, *, seed: int = 2026, start_month: str | None = None, alter=None) -> Path:
    """A valid enrolment .xlsx with the template's column headers (FIELDS with in_template=True).

    `alter(r, row)`, when given, may change row r (1-based) before it is written.
    """
    import xlsxwriter

    from shebao.business.enrol import FIELDS
    from shebao.core.months import current_month

    start_month = start_month or current_month().strftime("%Y-%m")
    specs = [s for s in FIELDS if s.in_template]
    people = People(seed)
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet("增员(续保)")
    for col, spec in enumerate(specs):
        sheet.write_string(0, col, spec.msgid)
    for r in range(1, rows + 1):
        row = people.template_row(start_month)
        if alter:
            alter(r, row)
        for col, spec in enumerate(specs):
            value = row.get(spec.name, "")
            if value != "":
                sheet.write_string(r, col, value)
    book.close()
    return path


# --- processes ---------------------------------------------------------------------------------


class Procs:
    """Subprocesses started by a bench script, each in its own process group, all stopped at exit."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, label: str, cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
        handle = open(log, "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((label, proc))
        return proc

    def stop(self) -> None:
        for _label, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 15
        for _label, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()


def start_qclusters(
    procs: Procs, db: BenchDB, names=("short", "long"), workers: dict[str, int] | None = None
) -> dict[str, subprocess.Popen]:
    """`Q_CLUSTER_NAME=<name> manage.py qcluster` for each name; Q_WORKERS per cluster if given
    (settings read it per process, so each cluster can have its own count)."""
    out = {}
    for name in names:
        extra = {"Q_CLUSTER_NAME": name}
        if workers and workers.get(name):
            extra["Q_WORKERS"] = str(workers[name])
        out[name] = procs.start(
            f"qcluster-{name}",
            [PYTHON, "manage.py", "qcluster"],
            child_env(db, **extra),
            db.tmpdir / f"qcluster-{name}.log",
        )
    return out


def wait_qclusters_ready(procs: dict[str, subprocess.Popen], timeout: float = 30) -> None:
    """A cluster is ready when its worker processes exist (the parent has spawned children)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(len(descendants(p.pid)) >= 3 for p in procs.values()):
            time.sleep(0.5)
            return
        for name, p in procs.items():
            if p.poll() is not None:
                raise SystemExit(f"qcluster {name} exited with {p.returncode}")
        time.sleep(0.2)
    raise SystemExit("qclusters did not start in time")


def start_gunicorn(procs: Procs, db: BenchDB, *args: str, workers: int = 2) -> tuple[subprocess.Popen, str]:
    """`gunicorn config.wsgi` on a free port; returns the process and its base URL once the
    login page answers (30 s at most)."""
    import http.client

    port = free_port()
    gunicorn = str(Path(PYTHON).parent / "gunicorn")
    server = procs.start(
        "gunicorn",
        [gunicorn, "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", *args],
        child_env(db),
        db.tmpdir / "gunicorn.log",
    )
    deadline = time.time() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {db.tmpdir / 'gunicorn.log'}") from None
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- RSS sampling ------------------------------------------------------------------------------


def _ppid_map() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        out[int(entry)] = int(rest[1])
    return out


def descendants(pid: int) -> list[int]:
    parents = _ppid_map()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current:
                found.append(child)
                frontier.append(child)
    return found


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    rest = stat[stat.rfind(b")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


class CpuCensus:
    """CPU time of the whole machine and of PostgreSQL's processes between start() and stop().

    The machine's busy share is from /proc/stat (every process, the bench client included);
    PostgreSQL's is the utime + stime of every process named postgres, counting a backend
    that exits meanwhile up to its last sample (`sample()` is called from time to time)."""

    def __init__(self) -> None:
        self.pg_first: dict[int, float] = {}
        self.pg_last: dict[int, float] = {}
        self.machine_first = self.machine_last = (0, 0)
        self.wall = 0.0

    @staticmethod
    def _machine() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    def _postgres(self) -> dict[int, float]:
        out = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/comm") as f:
                        if f.read().strip() != "postgres":
                            continue
                except OSError:
                    continue
                out[int(entry)] = cpu_seconds(int(entry))
        return out

    def start(self) -> None:
        self.pg_first = self._postgres()
        self.pg_last = dict(self.pg_first)
        self.machine_first = self._machine()
        self.wall = time.monotonic()

    def sample(self) -> None:
        self.pg_last.update({pid: cpu for pid, cpu in self._postgres().items() if cpu})

    def stop(self) -> None:
        self.sample()
        self.machine_last = self._machine()
        self.wall = time.monotonic() - self.wall

    def postgres_seconds(self) -> float:
        return sum(cpu - self.pg_first.get(pid, 0.0) for pid, cpu in self.pg_last.items())

    def machine_busy(self) -> float:
        """The busy share of all cores, 0..1."""
        busy = self.machine_last[0] - self.machine_first[0]
        total = self.machine_last[1] - self.machine_first[1]
        return busy / total if total else 0.0


def _label(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            parts = [p.decode(errors="replace") for p in f.read().split(b"\0") if p]
    except OSError:
        return str(pid)
    text = " ".join(Path(parts[0]).name if i == 0 else p for i, p in enumerate(parts[:4]))
    return text[:60]


class RssSampler(threading.Thread):
    """Every `interval` s: VmRSS of each root process and all its descendants; keeps the peak."""

    def __init__(self, roots: dict[str, int], interval: float = 0.1, include_self: bool = False) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.tree: dict[int, tuple[int, int]] = {}
        self.first_seen: dict[int, int] = {}
        self.group: dict[int, str] = {}
        self.labels: dict[int, str] = {}
        self.samples = 0
        self.include_self = include_self
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            parents = _ppid_map()
            for group, root in self.roots.items():
                pids, frontier = [(root, 0, 0)], [(root, 0)]
                while frontier:
                    current, depth = frontier.pop()
                    for child, parent in parents.items():
                        if parent == current:
                            pids.append((child, depth + 1, current))
                            frontier.append((child, depth + 1))
                for pid, depth, parent in pids:
                    kb = rss_kb(pid)
                    if kb > self.peak.get(pid, 0):
                        self.peak[pid] = kb
                    cpu = cpu_seconds(pid)
                    if cpu:
                        self.cpu[pid] = cpu
                    if pid not in self.labels:
                        self.group[pid], self.labels[pid] = group, _label(pid)
                        self.tree[pid] = (depth, parent)
                        self.first_seen[pid] = self.samples
            if self.include_self:
                me = os.getpid()
                self.group[me], self.labels[me] = "bench", "bench script (client)"
                self.peak[me] = max(self.peak.get(me, 0), rss_kb(me))
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def roles(self) -> dict[int, str]:
        """django-q2: cluster → sentinel → workers, then monitor, then pusher (spawn order),
        and a worker's own children (a big import's helper processes); gunicorn: arbiter → workers."""
        out: dict[int, str] = {}
        for group in set(self.group.values()):
            pids = sorted(p for p, g in self.group.items() if g == group)
            for pid in pids:
                depth, parent = self.tree.get(pid, (0, 0))
                if depth == 0:
                    out[pid] = "arbiter" if group == "gunicorn" else "main"
                elif group == "gunicorn":
                    out[pid] = "worker"
                elif depth == 1:
                    out[pid] = "sentinel"
                elif depth >= 3:
                    out[pid] = "import helper (forked by the worker)"
                else:
                    siblings = [p for p in pids if self.tree.get(p, (0, 0))[1] == parent]
                    first = min(self.first_seen[p] for p in siblings)
                    original = sorted(p for p in siblings if self.first_seen[p] == first)
                    if pid not in original:
                        out[pid] = "worker (recycled)"
                        continue
                    index = original.index(pid)
                    out[pid] = (
                        "pusher"
                        if index == len(original) - 1
                        else "monitor"
                        if index == len(original) - 2
                        else "worker"
                    )
        return out

    def report(self) -> list[tuple[str, int, str, float]]:
        roles = self.roles()
        rows = [
            (self.group[pid], pid, roles.get(pid, "") or self.labels[pid], kb / 1024) for pid, kb in self.peak.items()
        ]
        rows.sort()
        print(f"\nPeak RSS (sampled every {self.interval * 1000:.0f} ms, {self.samples} samples) and CPU time used:")
        for group, pid, label, mb in rows:
            print(f"  {group:14s} pid {pid:<7d} {mb:8.1f} MB  cpu {self.cpu.get(pid, 0):7.2f} s  {label}")
        return rows


# --- statistics --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(-(-p * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def run_on_fresh_db(args, script: str, run) -> None:
    """Create the script's database, run(args, db, procs), then stop every process and drop it."""
    db = create_db(args, script)
    procs = Procs()
    try:
        run(args, db, procs)
    finally:
        procs.stop()
        from django.db import connections

        connections.close_all()
        db.drop()


def seed_contributing(employer_ids: list[int], persons: int, *, start: dt.date, base_year: int, wage_of) -> int:
    """`persons` persons (synthetic IDs) spread over the employers, each contributing to the
    five insurance types since `start` with a base of `base_year` (wage_of(n) yuan), written
    with the register's bulk path (COPY on PostgreSQL) in the caller's transaction. Returns
    the number of relations."""
    from django.utils import timezone

    from shebao.core import bulk
    from shebao.core.choices import ALL_INSURANCE
    from shebao.register.models import ContributionBase, Person, Relation

    now = timezone.now()
    bulk.insert_rows(
        Person,
        [
            *("id_type", "id_number", "id_key", "name", "name_key", "sex", "birth_date"),
            *("ethnicity", "hukou", "identity", "employment_form", "phone", "address", "created_at", "updated_at"),
        ],
        (
            ("01", f"42010219900{n:07d}", f"01:42010219900{n:07d}", "压测", "ya ce", "1", dt.date(1990, 1, 1))
            + ("", "", "", "", "", "", now, now)
            for n in range(persons)
        ),
    )
    person_ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    relations, bases = [], []
    for n, person_id in enumerate(person_ids):
        employer_id = employer_ids[n % len(employer_ids)]
        wage = wage_of(n)
        for itype in ALL_INSURANCE:
            relations.append((person_id, employer_id, itype, "contributing", start, "", now, now))
            bases.append((person_id, employer_id, base_year, itype, wage, wage, False, False, now, now))
    bulk.insert_rows(
        Relation,
        [
            "person_id",
            "employer_id",
            "insurance_type",
            "status",
            "start_month",
            "end_reason",
            "created_at",
            "updated_at",
        ],
        relations,
        batch_size=20_000,
    )
    bulk.insert_rows(
        ContributionBase,
        [
            *("person_id", "employer_id", "year", "insurance_type", "declared_wage", "base", "provisional"),
            *("carried_over", "created_at", "updated_at"),
        ],
        bases,
        batch_size=20_000,
    )
    return len(relations)


# --- the API (/api/v1/) ------------------------------------------------------------------------


def api_token(employer, user, *, scope: str = "write") -> str:
    """A token of the employer's administrator `user` (seed_base's operator is one); its secret."""
    from shebao.api.tokens import token_create

    return token_create(employer=employer, actor=user, name="压测", scope=scope).secret


def api_post(base: str, path: str, token: str, body: bytes | dict, *, timeout: float = 120) -> tuple[int, bytes]:
    """One POST of JSON to the API through a new connection (gunicorn's sync workers close
    each one); returns (status, body)."""
    import http.client
    import json
    import urllib.parse

    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


GUNICORN_TIMED_LOG = ("--access-logformat", "%(m)s %(U)s %(s)s %(D)s")


def gunicorn_timed_args(log: Path) -> list[str]:
    """gunicorn arguments for an access log of `METHOD path status microseconds` per request:
    the server's own time of each request (read back with `server_times`)."""
    return ["--access-logfile", str(log), *GUNICORN_TIMED_LOG]


def server_times(log: Path, method: str, path_re: str) -> list[tuple[int, float]]:
    """(status, seconds) of every request of the access log written with gunicorn_timed_args
    whose method is `method` and whose path matches the regular expression `path_re`."""
    import re

    pattern = re.compile(path_re)
    out = []
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == method and pattern.fullmatch(parts[1]):
            out.append((int(parts[2]), int(parts[3]) / 1e6))
    return out


# --- open loops and the server's events ---------------------------------------------------------


def open_loop(items: list, rate: float, threads: int, one) -> tuple[float, int]:
    """Hand `one(item)` to a pool of `threads` every 1/rate s, so a slow call never delays the
    schedule; wait for all. Returns (seconds taken, calls scheduled more than 50 ms late)."""
    import concurrent.futures as cf

    pool = cf.ThreadPoolExecutor(max_workers=threads)
    futures, late = [], 0
    t_start = time.perf_counter()
    for i, item in enumerate(items):
        delay = t_start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.05:
            late += 1
        futures.append(pool.submit(one, item))
    cf.wait(futures)
    pool.shutdown()
    return time.perf_counter() - t_start, late


FINISH_ACTIONS = ("audit_passed", "audit_returned", "to_review")


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, as printed by the benches."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def submit_and_finish_events(tx_ids: list[int]) -> tuple[dict[int, dt.datetime], dict[int, tuple[dt.datetime, str]]]:
    """The server's times of each transaction: its last submit event, and the first of its
    finishing events (audit_passed / audit_returned / to_review) with that event's action."""
    from shebao.workflow.models import Event

    submits = dict(
        Event.objects.filter(transaction_id__in=tx_ids, action="submit")
        .order_by("at")
        .values_list("transaction_id", "at")
    )
    finishes: dict[int, tuple[dt.datetime, str]] = {}
    for tx_id, at, action in (
        Event.objects.filter(transaction_id__in=tx_ids, action__in=FINISH_ACTIONS)
        .values_list("transaction_id", "at", "action")
        .order_by("at")
    ):
        finishes.setdefault(tx_id, (at, action))
    return submits, finishes
