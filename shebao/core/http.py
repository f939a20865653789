"""Small request helpers shared by the page apps."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from shebao.core.errors import ApplicationError


def posted_version(request) -> int:
    """The version of the object the user saw, posted back by every transition form."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        raise ApplicationError(_("请求缺少版本信息，请刷新页面后重试。"), code="BAD_REQUEST") from None


def url_or_empty(name: str, **kwargs) -> str:
    """A URL of an optional part of the product, or "" where it is not installed."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""
