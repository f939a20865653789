"""月度缴费核定 in 系统管理: the runs with their progress, and 开始核定 for a month, queued on
the long cluster and run by its worker."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from django.test import Client
from django_q.models import OrmQ, Schedule

from shebao.register.models import AssessmentRun, AssessmentState, ContributionLine
from tests.factories import EmployerFactory, UserFactory
from tests.register.test_assessment import _enrolled

URL = "/admin/register/assessmentrun/"


def _run_queued() -> None:
    for queued in OrmQ.objects.filter(key="long"):
        task = queued.task
        module, func = task["func"].rsplit(".", 1)
        getattr(import_module(module), func)(*task["args"], **task["kwargs"])
        queued.delete()


def test_the_administrator_starts_a_month_and_sees_its_progress(sysadmin_client, params):
    employer = EmployerFactory()
    person = _enrolled(employer)
    page = sysadmin_client.get(URL)
    assert page.status_code == 200
    assert "开始核定" in page.content.decode() and "月度缴费核定" in page.content.decode()
    response = sysadmin_client.post(URL + "assess/", {"month": "2026-03"}, follow=True)
    assert "已开始核定 2026-03" in response.content.decode()
    assert OrmQ.objects.filter(key="long").count() == 1
    _run_queued()
    run = AssessmentRun.objects.get(month=dt.date(2026, 3, 1))
    assert run.state == AssessmentState.FINISHED
    assert ContributionLine.objects.filter(person=person, month=dt.date(2026, 3, 1)).count() == 5
    listed = sysadmin_client.get(URL).content.decode()
    assert "2026-03" in listed and "100%" in listed and "已完成" in listed


def test_a_bad_month_is_refused_with_a_message(sysadmin_client, params):
    response = sysadmin_client.post(URL + "assess/", {"month": "2026-13"}, follow=True)
    assert "请填写年月，如 2026-07。" in response.content.decode()
    assert not OrmQ.objects.exists()


def test_only_a_system_administrator_may_start_it(db, params):
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.post(URL + "assess/", {"month": "2026-03"}).status_code == 403
    assert not OrmQ.objects.exists()


def test_the_assessment_is_scheduled_daily_on_the_long_cluster(db):
    schedule = Schedule.objects.get(name="assess-months")
    assert (schedule.func, schedule.schedule_type, schedule.cluster) == (
        "shebao.register.jobs.assess_due_months_job",
        Schedule.DAILY,
        "long",
    )
