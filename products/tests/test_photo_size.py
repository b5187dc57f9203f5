"""Photos over 40 megapixels are refused before they are decoded (products/photos.py,
SPEC §13), in the admin's forms, with a French message. The photos here are real PNG files
whose header claims the size: a few hundred bytes, never decoded (what an attacker, or a
careless export, uploads). The memory a worker takes for real photos is measured by the
fault suite (shop/tests/faults/test_photos.py) under gunicorn."""

import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from products import photos
from products.models import Product


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG (valid chunks and CRCs) whose header says width × height."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(width: int, height: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.png", png_claiming(width, height), "image/png")


def test_the_validator_reads_the_header_only():
    with pytest.raises(ValidationError) as refused:
        photos.check_photo_size(upload(13_300, 13_300))
    [message] = refused.value.messages
    assert "13\N{NO-BREAK SPACE}300 × 13\N{NO-BREAK SPACE}300 pixels" in message
    assert "176,9 mégapixels" in message
    assert "au plus 40 mégapixels" in message

    photos.check_photo_size(upload(6_700, 4_470))  # 29.9 MP of PNG: accepted


def test_formats_decoded_whole_are_held_to_30_megapixels():
    """A JPEG is decoded at a fraction of its size for the renditions; a PNG is decoded whole:
    4 bytes a pixel, so a smaller limit keeps the worker under ~250 MB."""
    with pytest.raises(ValidationError) as refused:
        photos.check_photo_size(upload(7_740, 5_160))  # 39.9 MP of PNG
    [message] = refused.value.messages
    assert "Cette photo PNG est trop grande pour être traitée" in message
    assert "au plus 30 mégapixels (40 en JPEG)" in message
    photos.check_photo_size(SimpleUploadedFile("notes.txt", b"pas une image"))  # not its job


def test_the_admin_refuses_a_huge_photo_with_a_french_message(admin_client):
    data = {
        "name": "Commode",
        "slug": "commode",
        "price": "120.00",
        "description": "",
        "in_stock": "on",
        "image": upload(13_300, 13_300),
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-image": upload(20_000, 3_000),
        "images-0-alt": "Le dos",
        "images-0-position": "1",
    }

    response = admin_client.post(reverse("admin:products_product_add"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Cette photo est trop grande" in page
    assert "60,0 mégapixels" in page  # the other photo, in its own inline form
    assert not Product.objects.exists()
