"""直接上传: only real, reasonable JPEG/PNG photos are taken; anything else is refused with a reason."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shebao.workflow.models import Item
from tests.security.conftest import logged_in

pytestmark = pytest.mark.django_db


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A valid single-colour 1-bit PNG of width×height pixels that compresses to a few kB."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def jpeg(width=400, height=500) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 160, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(world, data: bytes, name: str, content_type: str):
    client = logged_in(world.operator, world.employer)
    tx = world.saved
    tx.refresh_from_db()
    response = client.post(f"/tx/{tx.pk}/photo/", {
        "version": tx.version, "photo": SimpleUploadedFile(name, data, content_type=content_type)})
    return response, response.content.decode()


def assert_no_photo(world):
    item = Item.objects.get(transaction=world.saved)
    assert not item.photo


def test_a_real_photo_is_reencoded(world):
    response, _ = upload(world, jpeg(), "photo.jpg", "image/jpeg")
    assert response.status_code == 302
    photo = bytes(Item.objects.get(transaction=world.saved).photo)
    assert len(photo) <= 60 * 1024
    with Image.open(io.BytesIO(photo)) as image:
        assert image.format == "JPEG" and image.size == (358, 441)


def test_renamed_executable_is_refused(world):
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x90" * 4000
    response, body = upload(world, exe, "photo.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "照片须为 JPEG 或 PNG 格式的图片。" in body
    assert_no_photo(world)


def test_script_with_a_jpeg_name_is_refused(world):
    response, body = upload(world, b"#!/bin/sh\nrm -rf /\n", "photo.png", "image/png")
    assert response.status_code == 400
    assert "照片须为 JPEG 或 PNG 格式的图片。" in body
    assert_no_photo(world)


def test_jpeg_magic_followed_by_garbage_is_refused(world):
    response, body = upload(world, b"\xff\xd8\xff\xe0" + b"\x00" * 2000, "photo.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "无法读取该照片文件" in body
    assert_no_photo(world)


def test_decompression_bomb_is_refused_before_it_is_decoded(world):
    data = bomb_png()
    assert len(data) < 200 * 1024  # 400 million pixels in a small file
    response, body = upload(world, data, "photo.png", "image/png")
    assert response.status_code == 400
    assert "照片像素过大" in body or "无法读取该照片文件" in body
    assert_no_photo(world)


def test_photo_with_too_many_pixels_is_refused_with_the_reason(world):
    data = bomb_png(8000, 6000)  # 48 million pixels: below Pillow's own bomb limit, above ours
    response, body = upload(world, data, "photo.png", "image/png")
    assert response.status_code == 400
    assert "照片像素过大，请上传普通证件照。" in body
    assert_no_photo(world)


def test_oversize_file_is_refused(world):
    data = jpeg() + b"\x00" * (5 * 1024 * 1024)
    assert len(data) > 5 * 1024 * 1024
    response, body = upload(world, data, "photo.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "照片文件超过 5 MB，请压缩后上传。" in body
    assert_no_photo(world)


@pytest.mark.parametrize("after_pdf_export", [False, True])
def test_truncated_jpeg_is_refused(world, after_pdf_export):
    if after_pdf_export:
        # WeasyPrint (the PDF exports) sets Pillow's global LOAD_TRUNCATED_IMAGES on import.
        import weasyprint  # noqa: F401
        from PIL import ImageFile

        assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    full = jpeg(1200, 1500)
    response, body = upload(world, full[: len(full) // 2], "photo.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "无法读取该照片文件，文件可能已损坏或不是图片。" in body
    assert_no_photo(world)


def test_empty_and_missing_files_are_refused(world):
    response, body = upload(world, b"", "photo.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "照片" in body
    client = logged_in(world.operator, world.employer)
    response = client.post(f"/tx/{world.saved.pk}/photo/", {"version": world.saved.version})
    assert response.status_code == 400
    assert "请选择要上传的照片。" in response.content.decode()
    assert_no_photo(world)


def test_truncated_png_is_refused(world):
    out = io.BytesIO()
    Image.effect_noise((600, 700), 60).convert("RGB").save(out, "PNG")
    data = out.getvalue()
    response, body = upload(world, data[: len(data) * 2 // 3], "photo.png", "image/png")
    assert response.status_code == 400
    assert "无法读取该照片文件" in body
    assert_no_photo(world)


def test_tiny_image_is_refused(world):
    response, body = upload(world, jpeg(40, 50), "photo.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "照片太小" in body
    assert_no_photo(world)


def test_gif_and_webp_are_refused(world):
    for fmt, name in (("GIF", "photo.gif"), ("WEBP", "photo.webp"), ("BMP", "photo.bmp")):
        out = io.BytesIO()
        Image.new("RGB", (400, 500), (1, 2, 3)).save(out, fmt)
        response, body = upload(world, out.getvalue(), name, "image/jpeg")
        assert response.status_code == 400, fmt
        assert "照片须为 JPEG 或 PNG 格式的图片。" in body
    assert_no_photo(world)
