"""Photos as phones take them: turned by their EXIF orientation in every stored size, and
iPhones' HEIC accepted (products/photos.py)."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from products.models import Product, ProductImage

RED, BLUE = (220, 20, 20), (20, 20, 220)
RENDITIONS = {"card_small": 320, "card_large": 640, "photo_medium": 640, "photo_large": 1200}
NO_MORE_PHOTOS = {"images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0"}
ORIENTATION = 0x0112


def sideways_jpeg() -> bytes:
    """What a phone stores for a portrait: a landscape picture (red on top, blue below) with
    the EXIF tag "rotate 90° clockwise to display" (orientation 6). Shown upright, the red
    half is on the right."""
    image = Image.new("RGB", (400, 200), BLUE)
    image.paste(RED, (0, 0, 400, 100))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def heic(size=(300, 200), colour=RED) -> bytes:
    """An HEIC file, made here as an iPhone would write one (pillow-heif's encoder)."""
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", size, colour)).save(buffer, quality=90)
    return buffer.getvalue()


def red_side(image: Image.Image) -> str:
    """Where the red pixels are, seen from the image's centre: left, right, top or bottom."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    points = [
        (x, y)
        for x in range(0, width, 4)
        for y in range(0, height, 4)
        if (pixel := rgb.getpixel((x, y)))[0] > 150 and pixel[2] < 100
    ]
    assert points, "no red left in the image"
    dx = sum(x for x, _ in points) / len(points) - width / 2
    dy = sum(y for _, y in points) / len(points) - height / 2
    if abs(dx) > abs(dy):
        return "right" if dx > 0 else "left"
    return "bottom" if dy > 0 else "top"


def test_red_side_reads_the_test_picture_as_stored_and_as_shown():
    """The measure itself: the stored pixels have red on top; turned as the tag says, right."""
    from PIL import ImageOps

    with Image.open(io.BytesIO(sideways_jpeg())) as stored:
        assert stored.getexif()[ORIENTATION] == 6
        assert red_side(stored) == "top"
        assert red_side(ImageOps.exif_transpose(stored)) == "right"


def _stored_sizes(source) -> dict[str, Image.Image]:
    sizes = {}
    for name in RENDITIONS:
        with Image.open(Path(getattr(source, name).path)) as image:
            image.load()
            sizes[name] = image
    return sizes


def test_a_sideways_phone_photo_is_upright_in_every_stored_size(staff_client):
    """Uploaded in the admin, the photo the admin (and any browser) shows upright is upright
    in every size the shop stores: card crops, product page, link previews."""
    response = staff_client.post(
        reverse("admin:products_product_add"),
        {
            "name": "Portrait",
            "slug": "portrait",
            "price": "50",
            "in_stock": "on",
            "image": SimpleUploadedFile("portrait.jpg", sideways_jpeg(), "image/jpeg"),
            **NO_MORE_PHOTOS,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(slug="portrait")
    for name, image in _stored_sizes(product).items():
        assert image.size == (RENDITIONS[name], RENDITIONS[name]), name
        assert red_side(image) == "right", f"{name} is not upright"
        assert ORIENTATION not in image.getexif(), f"{name} would be turned twice"
    # The whole photo on its mat: taller than wide, as the portrait it is.
    with Image.open(Path(product.photo_large.path)) as large:
        bbox = Image.eval(large.convert("L"), lambda v: 255 if v < 200 else 0).getbbox()
        assert bbox[3] - bbox[1] > bbox[2] - bbox[0]


def test_more_photos_are_turned_too(make_product):
    product = make_product()
    extra = ProductImage(product=product, alt="De face")
    extra.image.save("face.jpg", io.BytesIO(sideways_jpeg()), save=True)

    for name, image in _stored_sizes(extra).items():
        assert red_side(image) == "right", name


def test_the_admin_preview_shows_the_shops_upright_rendition(staff_client, make_product):
    product = make_product()
    product.image.save("portrait.jpg", io.BytesIO(sideways_jpeg()), save=True)

    html = staff_client.get(reverse("admin:products_product_change", args=[product.pk]))

    assert f'<img src="{product.photo_medium.url}" alt="" class="admin-preview">' in (
        html.content.decode()
    )


@pytest.mark.parametrize("filename", ["IMG_0042.HEIC", "photo.heif"])
def test_an_iphone_heic_photo_is_accepted(staff_client, filename):
    """An iPhone's default format is accepted like a JPEG; the shop's sizes are WebP."""
    response = staff_client.post(
        reverse("admin:products_product_add"),
        {
            "name": "Lampe",
            "slug": "lampe",
            "price": "80",
            "in_stock": "on",
            "image": SimpleUploadedFile(filename, heic(), "image/heic"),
            **NO_MORE_PHOTOS,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(slug="lampe")
    assert product.image.storage.exists(product.image.name)
    for name, image in _stored_sizes(product).items():
        assert (image.format, image.size) == ("WEBP", (RENDITIONS[name],) * 2), name
        centre = image.convert("RGB").getpixel((RENDITIONS[name] // 2,) * 2)
        assert centre[0] > 150, f"{name} lost the picture: {centre}"
        assert centre[2] < 100, f"{name} lost the picture: {centre}"
    assert staff_client.get(product.get_absolute_url()).status_code == 200


def test_a_file_that_is_not_a_photo_is_still_refused(staff_client):
    response = staff_client.post(
        reverse("admin:products_product_add"),
        {
            "name": "Lampe",
            "slug": "lampe",
            "price": "80",
            "in_stock": "on",
            "image": SimpleUploadedFile("photo.heic", b"not a picture at all", "image/heic"),
            **NO_MORE_PHOTOS,
        },
    )

    assert response.status_code == 200
    assert "image" in response.context["adminform"].form.errors
    assert not Product.objects.exists()
