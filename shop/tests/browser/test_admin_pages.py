"""The owner adds a page in a real browser: its address follows the title as it is typed,
and the page is served there (products/pages.py)."""

import pytest
from playwright.sync_api import expect

from shop.tests.browser.test_admin_price import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_address_follows_the_title_as_it_is_typed(page, step):
    log_in(page)
    page.goto("/admin/flatpages/flatpage/add/")

    page.locator("#id_title").press_sequentially("À propos de l'atelier")

    expect(page.locator("#id_slug")).to_have_value("a-propos-de-latelier")
    page.locator("#id_content").fill("Nous chinons depuis **1998**.")
    step(page, "page typed")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text(
        "« À propos de l'atelier » est en ligne à l'adresse /pages/a-propos-de-latelier/."
    )
    page.get_by_role("link", name="/pages/a-propos-de-latelier/").first.click()
    expect(page.get_by_role("heading", name="À propos de l'atelier")).to_be_visible()
    expect(page.locator("article strong")).to_have_text("1998")
