"""{% reader_button business tx %}: the 读卡器 button of a form that takes a person."""

from __future__ import annotations

import json

from django import template
from django.template.loader import render_to_string
from django.urls import reverse

from shebao.params.reader import reader_config
from shebao.web.reader import mark_page, offers_reader

register = template.Library()


@register.simple_tag(takes_context=True)
def reader_button(context, business, tx=None) -> str:
    """The button and what its script needs (the reader's URLs and field names, where the photo
    goes), or nothing for a form that takes no person; marks the page's CSP."""
    request = context["request"]
    if not offers_reader(business) or (tx is not None and not tx.is_editable):
        return ""
    config = reader_config()
    mark_page(request, config)
    photo_url = ""
    fields = {key: name for key, name in config.fields.items() if key != "photo" or business.photo is not None}
    if business.photo is not None:
        photo_url = (
            reverse("web:tx_reader_photo", kwargs={"pk": tx.pk})
            if tx is not None
            else reverse("web:reader_photo_check", kwargs={"code": business.code})
        )
    return render_to_string(
        "web/_reader.html",
        {
            "config": config,
            "fields_json": json.dumps(fields, ensure_ascii=False),
            "photo_url": photo_url,
            "attach": tx is not None,
            "posted_photo": request.POST.get("reader_photo", "") if request.method == "POST" and tx is None else "",
        },
        request=request,
    )
