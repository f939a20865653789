"""Fixtures of the API tests."""

import pytest

# --- the pages (接口令牌, 免费预检) ---------------------------------------------------------


@pytest.fixture
def pages_admin(params, vip_employer, operator_client):
    """A Client of the employer's administrator (单位管理员)."""
    return operator_client(vip_employer)


@pytest.fixture
def pages_operator(params, vip_employer, operator_client):
    """A Client of an operator of the same employer who is not its administrator."""
    from tests.factories import OperatorFactory

    return operator_client(vip_employer, OperatorFactory(employer=vip_employer, employer__is_admin=False))


@pytest.fixture
def pages_other_token(other_employer):
    """An active token of another employer."""
    from shebao.api import tokens
    from tests.factories import OperatorFactory

    return tokens.token_create(
        employer=other_employer, actor=OperatorFactory(employer=other_employer), name="其他单位系统", scope="read"
    ).token


# --- webhooks (tests/api/test_webhooks.py) ------------------------------------------------


class HooksReceiver:
    """An HTTP server on 127.0.0.1 in a thread: records every request (method, path, headers,
    body) and answers with the next of `answers` (status, headers, body), 200 when none is left."""

    def __init__(self) -> None:
        import http.server
        import threading

        receiver = self
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict, bytes]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"method": "POST", "path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                status, headers, content = receiver.answers.pop(0) if receiver.answers else (200, {}, b"ok")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST  # noqa: N815 (a redirect followed would arrive as a GET)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/shebao/webhook?src=test"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks_settings(settings):
    """Webhooks to loopback over http allowed, as for a receiver in the test; one second to answer."""
    settings.SHEBAO_WEBHOOK_ALLOW_LOOPBACK = True
    settings.SHEBAO_WEBHOOK_HTTPS_ONLY = False
    settings.SHEBAO_WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.SHEBAO_WEBHOOK_MAX_ATTEMPTS = 3
    settings.SHEBAO_WEBHOOK_FIRST_RETRY_SECONDS = 30
    return settings


@pytest.fixture
def hooks_receiver(hooks_settings):
    receiver = HooksReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def hooks_admin(params, vip_employer):
    """The VIP employer's administrator (单位管理员)."""
    from tests.factories import OperatorFactory

    return OperatorFactory(employer=vip_employer)


@pytest.fixture
def hooks_token(vip_employer, hooks_admin, hooks_receiver):
    """A read token of the VIP employer whose webhook is the receiver; `.secret` is its signing secret."""
    from shebao.api import tokens, webhooks

    token = tokens.token_create(employer=vip_employer, actor=hooks_admin, name="人事系统", scope="read").token
    saved = webhooks.set_webhook(employer=vip_employer, actor=hooks_admin, token_id=token.pk, url=hooks_receiver.url)
    token = saved.token
    token.secret = saved.secret
    return token
