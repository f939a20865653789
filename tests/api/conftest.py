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
