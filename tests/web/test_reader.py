"""读卡器: the server's side (the card photo's checks, the settings, the page's CSP)."""

import base64
import datetime as dt
import io

import pytest
from django.test import override_settings
from PIL import Image

from shebao.demo.fake_reader import CARDS, bmp
from shebao.params.models import ReaderSettings
from shebao.params.reader import DEFAULT_FIELDS, reader_config
from shebao.workflow import services
from shebao.workflow.models import Item, Transaction
from tests.factories import EmployerFactory, OperatorFactory, make_resident_id, seed_params
from tests.workflow.helpers import enrol_raw, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _params():
    seed_params()


@pytest.fixture
def vip(client):
    employer = EmployerFactory(is_vip=True)
    user = OperatorFactory(employer=employer)
    login(client, user, employer)
    return employer, user


def _form(raw: dict, **extra) -> dict:
    return {**raw, "insurance_types": [], **extra}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


CHIP = _b64(bmp(102, 126, (40, 70, 120)))


def _saved(employer, user, day=1) -> Transaction:
    result = services.transaction_save_single(
        employer=employer, actor=user, business_type="enrol", raw=enrol_raw(make_resident_id(dt.date(1990, 5, day)))
    )
    return result.transaction


def _connect_src(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("connect-src"))
    return directive.split()[1:]


# --- settings -------------------------------------------------------------------------------


def test_settings_default_to_the_widespread_protocol():
    config = reader_config()
    assert config.origin == "http://127.0.0.1:19196"
    assert (config.open_path, config.read_path, config.close_path) == ("/OpenDevice", "/readcard", "/CloseDevice")
    assert config.fields["name"] == "partyName" and config.fields["photo"] == "identityPic"
    assert config.fields == DEFAULT_FIELDS


@override_settings(SHEBAO_READER_ORIGIN="http://localhost:24010/", SHEBAO_READER_FIELDS='{"name": "xm"}')
def test_environment_overrides_and_the_administrators_row_wins():
    assert reader_config().origin == "http://localhost:24010"
    assert reader_config().fields["name"] == "xm"
    ReaderSettings.objects.create(
        origin="https://Reader.Local:8443", read_path="/api/read", field_names={"number": "sfzh"}
    )
    config = reader_config()
    assert config.origin == "https://reader.local:8443" and config.read_path == "/api/read"
    assert config.open_path == "/OpenDevice"  # blank: the default
    assert config.fields["number"] == "sfzh" and config.fields["name"] == "xm"


def test_admin_form_refuses_a_bad_origin_and_unknown_field(admin_client):
    response = admin_client.post(
        "/admin/params/readersettings/add/",
        {"origin": "javascript:alert(1)", "open_path": "readcard", "field_names": '{"shoe": "x"}'},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "http:// 或 https:// 开头" in body and "路径须以 / 开头" in body and "未知的字段：shoe" in body
    assert not ReaderSettings.objects.exists()
    response = admin_client.post(
        "/admin/params/readersettings/add/", {"origin": "http://127.0.0.1:8800", "field_names": "{}"}
    )
    assert response.status_code == 302
    assert reader_config().origin == "http://127.0.0.1:8800"
    assert admin_client.get("/admin/params/readersettings/add/").status_code == 403  # one row


# --- the page -------------------------------------------------------------------------------


def test_form_that_takes_a_person_has_the_button_and_csp_allows_exactly_the_reader(client, vip):
    for code in ("enrol", "suspend"):
        response = client.get(f"/business/{code}/single/")
        body = response.content.decode()
        assert "data-reader-button" in body and "读卡器" in body, code
        assert _connect_src(response) == ["'self'", "http://127.0.0.1:19196"], code
        assert "shebao/reader.js" in body
    # 增员 takes a photo: the read's photo is checked; 减员 takes none.
    assert 'data-photo-url="/business/enrol/reader-photo/"' in client.get("/business/enrol/single/").content.decode()
    assert "data-photo-url" not in client.get("/business/suspend/single/").content.decode()
    # A page without the button keeps connect-src 'self'.
    assert _connect_src(client.get("/home/")) == ["'self'"]


def test_csp_follows_the_administrators_origin(client, vip):
    ReaderSettings.objects.create(origin="http://127.0.0.1:24011")
    response = client.get("/business/enrol/single/")
    assert _connect_src(response) == ["'self'", "http://127.0.0.1:24011"]
    assert 'data-origin="http://127.0.0.1:24011"' in response.content.decode()


# --- the photo ------------------------------------------------------------------------------


def test_chip_photo_check_accepts_the_bmp_and_stores_nothing(client, vip):
    response = client.post("/business/enrol/reader-photo/", {"pic": CHIP})
    assert response.status_code == 200 and response.json()["ok"] is True
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("pic", "code"),
    [
        ("", "READER_PHOTO_EMPTY"),
        ("!!!not base64***", "READER_PHOTO_BASE64"),
        ("QUJD" * 10 + "=" + "QUJD", "READER_PHOTO_BASE64"),
        ("A" * 400_000, "READER_PHOTO_TOO_LARGE"),
        (_b64(b"MZ\x90\x00" + b"\0" * 200), "READER_PHOTO_FORMAT"),
        (_b64(bmp(40, 50, (1, 2, 3))), "PHOTO_SMALL"),
        (_b64(bmp(102, 126, (1, 2, 3))[:-500]), "PHOTO_INCOMPLETE"),
        (_b64(b"BM" + b"\xff" * 60), "READER_PHOTO_FORMAT"),
    ],
)
def test_hostile_pictures_are_refused_with_a_reason(client, vip, pic, code):
    response = client.post("/business/enrol/reader-photo/", {"pic": pic})
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["message"]


def test_oversized_bmp_header_refused_before_decoding(client, vip):
    header = bytearray(bmp(102, 126, (1, 2, 3))[:54])
    header[18:26] = (30000).to_bytes(4, "little") + (30000).to_bytes(4, "little", signed=True)
    response = client.post("/business/enrol/reader-photo/", {"pic": _b64(bytes(header) + b"\0" * 100)})
    assert response.status_code == 400 and response.json()["code"] == "PHOTO_PIXELS"


def test_save_attaches_the_read_photo_reencoded(client, vip):
    raw = enrol_raw(make_resident_id(dt.date(1990, 4, 4)), make_card="是")
    response = client.post("/business/enrol/single/", _form(raw, reader_photo=CHIP))
    assert response.status_code == 302
    item = Item.objects.get()
    image = Image.open(io.BytesIO(item.photo))
    assert image.format == "JPEG" and image.size == (358, 441)


def test_save_with_a_bad_read_photo_saves_nothing(client, vip):
    raw = enrol_raw(make_resident_id(dt.date(1990, 4, 5)))
    response = client.post("/business/enrol/single/", _form(raw, reader_photo=_b64(bmp(40, 50, (1, 2, 3)))))
    assert response.status_code == 422
    assert "照片太小" in response.content.decode()
    assert not Transaction.objects.exists()


def test_transaction_page_attaches_like_direct_upload(client, vip):
    employer, user = vip
    tx = _saved(employer, user)
    page = client.get(f"/tx/{tx.pk}/")
    assert f'data-photo-url="/tx/{tx.pk}/reader-photo/"' in page.content.decode()
    response = client.post(
        f"/tx/{tx.pk}/reader-photo/", {"pic": CARDS["resident"]["identityPic"], "version": tx.version}
    )
    assert response.status_code == 200
    assert response.json()["version"] == tx.version + 1
    photo = client.get(f"/tx/{tx.pk}/photo/")
    assert Image.open(io.BytesIO(photo.content)).size == (358, 441)
    stale = client.post(f"/tx/{tx.pk}/reader-photo/", {"pic": CHIP, "version": tx.version})
    assert stale.status_code == 409


def test_another_employers_transaction_is_404(client, vip):
    other = EmployerFactory(is_vip=True)
    tx = _saved(other, OperatorFactory(employer=other), day=2)
    response = client.post(f"/tx/{tx.pk}/reader-photo/", {"pic": CHIP, "version": tx.version})
    assert response.status_code == 404
    assert not Item.objects.get(transaction=tx).photo
    assert client.post("/business/suspend/reader-photo/", {"pic": CHIP}).status_code == 404  # takes no photo
