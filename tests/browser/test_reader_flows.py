"""读卡器 in chromium through the fake reader service (shebao/demo/fake_reader.py): each card
type fills 证件类型, 姓名, 性别, 民族, 出生日期, 联系地址, 证件号码 and takes the photo (saved with
the transaction, like 直接上传); no service, no card, a photo the checks refuse, a number that
disagrees with the one typed (kept unless the operator asks); the transaction page's read
attaches the photo at once; the form with the button and after a read at 1366 and 390 px in
both languages."""

from __future__ import annotations

import io
import socket
import threading
import urllib.request

import pytest
from PIL import Image
from playwright.sync_api import expect

from shebao.core import clock
from shebao.demo.fake_reader import make_server
from shebao.params.models import ReaderSettings
from shebao.workflow.models import Item, Transaction
from tests.browser.pages import login
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM = "/business/enrol/single/"


@pytest.fixture
def reader():
    """The fake service on a free port, named in 读卡器设置; .card(key) puts a card on it."""
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    ReaderSettings.objects.update_or_create(pk=1, defaults={"origin": origin})

    class Reader:
        url = origin

        @staticmethod
        def card(key: str) -> None:
            with urllib.request.urlopen(f"{origin}/control?card={key}") as answer:
                assert answer.status == 200

    yield Reader
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(page):
    return page.locator("[data-reader-status]")


def _open_form(page, site):
    login(page, site.url, site.vip_user.username, site.vip.number)
    page.goto(site.url + FORM)
    expect(page.get_by_role("button", name="读卡器")).to_be_visible()


@pytest.mark.parametrize(
    ("key", "id_type", "number", "name", "sex", "nation", "address"),
    [
        ("resident", "01", "420102199003071232", "王晓明", "1", "汉族", "湖北省武汉市江岸区沿江大道188号"),
        ("foreign", "03", "93284019850612001X", "约翰史密斯", "1", "", ""),
        ("hmt", "02", "810000199508200022", "陈嘉欣", "2", "", "湖北省武汉市武昌区中北路9号"),
    ],
)
def test_each_card_type_fills_the_form_and_the_photo_is_saved(
    site, reader, new_page, key, id_type, number, name, sex, nation, address
):
    reader.card(key)
    page = new_page()
    _open_form(page, site)
    page.get_by_role("button", name="读卡器").click()
    expect(_status(page)).to_contain_text("已从身份证读取信息")
    expect(_status(page)).to_contain_text("已读取身份证照片")
    expect(page.get_by_label("证件类型")).to_have_value(id_type)
    expect(page.get_by_label("证件号码")).to_have_value(number)
    expect(page.get_by_label("姓名")).to_have_value(name)
    expect(page.get_by_label("性别")).to_have_value(sex)
    expect(page.get_by_label("民族")).to_have_value(nation)
    expect(page.get_by_label("联系地址")).to_have_value(address)
    birth = {"resident": "1990-03-07", "foreign": "1985-06-12", "hmt": "1995-08-20"}[key]
    expect(page.get_by_label("出生日期")).to_have_value(birth)
    # The rest of the form, then 保存: the photo goes with it.
    page.get_by_label("户口性质").select_option(index=1)
    page.get_by_label("个人身份").select_option(index=1)
    page.get_by_label("用工形式").select_option(index=1)
    page.get_by_label("参加工作日期").fill("2015-07-01")
    page.get_by_label("参保起始年月").fill(clock.current_month().strftime("%Y-%m"))
    page.get_by_label("申报月工资").fill("8000")
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存，流水号")).to_be_visible()
    expect(page.get_by_test_id("photo")).to_be_visible()
    item = Item.objects.get(transaction__employer=site.vip)
    assert item.data["id_number"] == number
    assert Image.open(io.BytesIO(item.photo)).size == (358, 441)


def test_no_service_no_card_and_a_bad_photo(site, reader, new_page):
    page = new_page()
    _open_form(page, site)
    reader.card("none")
    page.get_by_role("button", name="读卡器").click()
    expect(_status(page)).to_contain_text("读卡器上没有身份证")
    expect(page.get_by_label("证件号码")).to_have_value("")

    reader.card("badphoto")
    page.get_by_role("button", name="读卡器").click()
    expect(_status(page)).to_contain_text("身份证照片未能使用：照片太小")
    expect(page.get_by_label("姓名")).to_have_value("李小红")  # the data is still read
    expect(page.get_by_label("民族")).to_have_value("土家族")
    assert page.locator("[data-reader-photo]").input_value() == ""

    ReaderSettings.objects.filter(pk=1).update(origin=f"http://127.0.0.1:{_free_port()}")
    page.reload()
    page.get_by_role("button", name="读卡器").click()
    expect(_status(page)).to_contain_text("读卡器服务没有响应")
    assert not Transaction.objects.exists()


def test_number_mismatch_asks_before_replacing(site, reader, new_page):
    reader.card("resident")
    page = new_page()
    _open_form(page, site)
    typed = "420102198001010013"
    page.get_by_label("证件号码").fill(typed)
    page.get_by_label("姓名").fill("张三")
    page.get_by_role("button", name="读卡器").click()
    ask = page.locator("[data-reader-ask]")
    expect(ask).to_contain_text("420102199003071232")
    expect(ask).to_contain_text(typed)
    page.get_by_role("button", name="保留已填写的信息").click()
    expect(page.get_by_label("证件号码")).to_have_value(typed)
    expect(page.get_by_label("姓名")).to_have_value("张三")
    expect(_status(page)).to_contain_text("已保留已填写的信息")

    page.get_by_role("button", name="读卡器").click()
    page.get_by_role("button", name="使用卡上的信息").click()
    expect(page.get_by_label("证件号码")).to_have_value("420102199003071232")
    expect(page.get_by_label("姓名")).to_have_value("王晓明")


def test_transaction_page_read_attaches_the_photo(site, reader, new_page):
    from shebao.workflow import services
    from tests.workflow.helpers import enrol_raw

    result = services.transaction_save_single(
        employer=site.vip, actor=site.vip_user, business_type="enrol", raw=enrol_raw("420102199003071232")
    )
    tx = result.transaction
    page = new_page()
    login(page, site.url, site.vip_user.username, site.vip.number)
    page.goto(f"{site.url}/tx/{tx.pk}/")
    expect(page.get_by_text("尚未上传照片")).to_be_visible()
    page.get_by_role("button", name="读卡器").click()
    expect(_status(page)).to_contain_text("已转换为 358×441 像素 JPEG")
    expect(page.get_by_test_id("photo")).to_be_visible()
    # The page's version follows: 保存 after the read is not a conflict.
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已保存。")).to_be_visible()
    assert Item.objects.get(transaction=tx).photo


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_reader_button_fits(site, reader, browser, browser_context_args, live_server, shot, language, viewport):
    reader.card("resident")
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(site.url + FORM)
        button = page.locator("[data-reader-button]")
        expect(button).to_be_visible()
        shot(page, f"form-{language}-{viewport}")
        assert page.evaluate(CHECK) == []
        button.click()
        expect(page.locator("[data-reader-photo]")).not_to_have_value("")  # the photo passed: the last message
        expect(_status(page)).to_have_class("reader-status ok")
        expect(page.locator("input[name=id_number]")).to_have_value("420102199003071232")
        shot(page, f"after-read-{language}-{viewport}")
        assert page.evaluate(CHECK) == []
    finally:
        context.close()
