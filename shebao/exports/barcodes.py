"""Code 128 barcodes of a 流水号: inline SVG for the PDF, PNG for the spreadsheet."""

from __future__ import annotations

import io
import re

import barcode
from barcode.writer import ImageWriter, SVGWriter

_OPTIONS = {"module_width": 0.25, "module_height": 9.0, "quiet_zone": 2.0, "write_text": False}


def code128_svg(text: str) -> str:
    """An <svg> element (no XML declaration or doctype) to put inline in HTML."""
    svg = barcode.get("code128", text, writer=SVGWriter()).render(dict(_OPTIONS)).decode("utf-8")
    svg = re.sub(r"^.*?(<svg\b)", r"\1", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # Presentation attributes instead of style="fill:…" (HTML's CSS parser would drop those)
    # and no id (the same barcode repeats on every page of the document).
    svg = re.sub(r'style="fill:\s*(\w+);?"', r'fill="\1"', svg)
    svg = re.sub(r'\s+id="[^"]*"', "", svg)
    return re.sub(r">\s+<", "><", svg).strip()


def code128_png(text: str) -> bytes:
    out = io.BytesIO()
    options = dict(_OPTIONS, module_width=0.3, module_height=8.0, dpi=200)
    barcode.get("code128", text, writer=ImageWriter(format="PNG")).write(out, options)
    return out.getvalue()
