"""Webhooks end to end in chromium, with the real workers: the administrator sets a token's
回调地址 on 回调设置 and sees the signing secret once; a VIP enrolment submitted and audited by
the short cluster is called back by the outbox cluster to a receiver written here, which
verifies the Standard Webhooks signature; 回调投递记录 shows the delivery, and 重新发送 sends
it again with the same webhook-id. Both pages fit at 1366 px and 390 px in both languages."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from shebao.api import tokens
from shebao.api.models import ApiToken, DeliveryStatus, WebhookDelivery
from shebao.workflow import services
from tests.api.conftest import HooksReceiver
from tests.browser.test_layout import CHECK
from tests.browser.test_robustness_pages import page_in, sign_in
from tests.factories import make_resident_id
from tests.workflow.helpers import enrol_raw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings):
    # The live server (this process) checks the address when it is saved; the workers have
    # the same settings in their environment (tests/browser/conftest.py).
    settings.SHEBAO_WEBHOOK_ALLOW_LOOPBACK = True
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = False
    server = HooksReceiver()
    yield server
    server.close()


def _wait(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_webhook_set_received_verified_and_resent(
    site, browser, browser_context_args, live_server, shot, receiver, language, viewport
):
    token = tokens.token_create(employer=site.vip, actor=site.vip_user, name="人事系统回调", scope="read").token
    context, page = page_in(browser, browser_context_args, live_server, language, viewport)
    try:
        sign_in(page, site.url, site.vip_user.username, site.vip.number)
        page.goto(f"{site.url}/integration/tokens/")
        page.locator(f'tr[data-token="{token.pk}"] a[href="/integration/tokens/{token.pk}/webhook/"]').click()
        expect(page.get_by_test_id("webhook-form")).to_be_visible()
        shot(page, f"{language}-{viewport}-webhook-empty")
        assert page.evaluate(CHECK) == [], "回调设置 (empty)"

        page.locator("#webhook-url").fill("http://10.0.0.8/hook")
        page.get_by_test_id("webhook-save").click()
        expect(page.get_by_test_id("webhook-error")).to_be_visible()  # the SSRF guard
        shot(page, f"{language}-{viewport}-webhook-refused")

        page.locator("#webhook-url").fill(receiver.url)
        page.get_by_test_id("webhook-save").click()
        secret = page.get_by_test_id("webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_") and secret == ApiToken.objects.get(pk=token.pk).webhook_secret
        shot(page, f"{language}-{viewport}-webhook-secret-once")
        assert page.evaluate(CHECK) == [], "回调设置 (secret shown)"
        page.reload()
        expect(page.get_by_test_id("webhook-secret")).to_have_count(0)

        # A VIP enrolment, submitted: the real workers audit it and call the receiver back.
        saved = services.transaction_save_single(
            employer=site.vip, actor=site.vip_user, business_type="enrol", raw=enrol_raw(make_resident_id(serial=5))
        ).transaction
        assert saved is not None
        services.transaction_submit(tx=saved, actor=site.vip_user, version=saved.version)
        _wait(lambda: receiver.requests, "the webhook did not arrive")
        first = receiver.requests[0]
        payload = Webhook(secret).verify(first["body"], first["headers"])
        assert payload["type"] == "transaction.finished" and payload["data"]["serial"] == saved.serial
        _wait(
            lambda: WebhookDelivery.objects.filter(token=token, status=DeliveryStatus.DELIVERED).exists(),
            "the delivery was not recorded",
        )

        page.goto(f"{site.url}/integration/tokens/{token.pk}/webhook/deliveries/")
        delivery = WebhookDelivery.objects.get(token=token)
        row = page.locator(f'tr[data-delivery="{delivery.pk}"]')
        expect(row).to_contain_text(saved.serial)
        expect(row.get_by_test_id("delivery-attempts")).to_have_text("1")
        shot(page, f"{language}-{viewport}-deliveries")
        assert page.evaluate(CHECK) == [], "回调投递记录"
        page.get_by_test_id(f"resend-{delivery.pk}").click()
        _wait(lambda: len(receiver.requests) == 2, "重新发送 did not send")
        again = receiver.requests[1]
        assert Webhook(secret).verify(again["body"], again["headers"])["data"]["serial"] == saved.serial
        lower = [{k.lower(): v for k, v in r["headers"].items()} for r in receiver.requests]
        assert lower[0]["webhook-id"] == lower[1]["webhook-id"]  # the same event, deduplicable
        shot(page, f"{language}-{viewport}-resent")
    finally:
        context.close()
