"""The product page's photos in a real browser, on a phone: thumbnails that neither scroll
the page nor add a Back step, and a zoom usable from the keyboard (static/js/gallery.js)."""

import pytest
from playwright.sync_api import expect

from products.demo import demo_image
from products.models import ProductImage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def three_photos(make_product):
    product = make_product(name="Lampe champignon", description="Une lampe. " * 40)
    product.image.save("lampe.jpg", demo_image("Lampe"), save=True)
    for position, alt in enumerate(["La lampe allumée", "Le pied en laiton"], start=1):
        extra = ProductImage(product=product, alt=alt, position=position)
        extra.image.save(f"{alt}.jpg", demo_image(alt), save=True)
    return product


def test_a_thumbnail_shows_its_photo_without_moving_the_page_or_the_history(
    page, step, three_photos
):
    page.set_viewport_size(PHONE)
    page.goto(three_photos.get_absolute_url())
    thumbs = page.locator(".gallery__thumbs a")
    thumbs.nth(2).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 40)")
    scrolled = page.evaluate("window.scrollY")
    steps_back = page.evaluate("history.length")
    assert scrolled > 0
    expect(thumbs.nth(0)).to_have_attribute("aria-current", "true")

    thumbs.nth(2).click()

    strip = page.locator("[data-gallery]")
    page.wait_for_function(
        "s => Math.abs(s.scrollLeft - 2 * s.clientWidth) < 2", arg=strip.element_handle()
    )
    expect(thumbs.nth(2)).to_have_attribute("aria-current", "true")
    expect(thumbs.nth(0)).not_to_have_attribute("aria-current", "true")
    assert page.evaluate("window.scrollY") == scrolled, "the page moved"
    assert page.evaluate("history.length") == steps_back, "a Back step was added"
    assert "#" not in page.url
    step(page, "third photo shown")


def test_the_zoom_opens_the_large_photo_and_closes_from_the_keyboard(page, step, three_photos):
    page.set_viewport_size(PHONE)
    page.goto(three_photos.get_absolute_url())
    zoom = page.get_by_role("link", name="Agrandir : Lampe champignon")
    dialog = page.locator("dialog[data-zoom-dialog]")
    expect(dialog).to_be_hidden()

    zoom.focus()
    page.keyboard.press("Enter")

    expect(dialog).to_be_visible()
    large = dialog.locator("img")
    expect(large).to_have_attribute("src", three_photos.photo_large.url)
    expect(large).to_have_attribute("alt", "Lampe champignon")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1200", arg=large.element_handle()
    )
    expect(dialog.get_by_role("button", name="Fermer")).to_be_focused()
    step(page, "zoom open")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(zoom).to_be_focused()
    assert "#" not in page.url

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_be_hidden()
    assert page.url.endswith(three_photos.get_absolute_url()), "the zoom left the page"
