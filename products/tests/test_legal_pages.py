"""The legal pages (django.contrib.flatpages at /pages/<slug>/), drafted by a migration."""

import re

import pytest
from django.contrib.flatpages.models import FlatPage
from django.contrib.messages import constants
from django.test import Client

from products.legal import LEGAL_PAGES, create_legal_pages
from products.pages import render_markup

SLUGS = ["mentions-legales", "cgv", "confidentialite", "livraison-retours"]


def test_the_migration_drafted_the_four_pages_with_placeholders(db):
    """Mentions légales, CGV, confidentialité, livraison et retours exist from the start,
    in French, with placeholders for what only the owner knows."""
    pages = {page.url: page for page in FlatPage.objects.all()}

    assert sorted(pages) == sorted(f"/pages/{slug}/" for slug in SLUGS)
    assert pages["/pages/mentions-legales/"].title == "Mentions légales"
    assert "[Raison sociale" in pages["/pages/mentions-legales/"].content
    assert "[SIRET]" in pages["/pages/mentions-legales/"].content
    assert "[Nom de l'hébergeur]" in pages["/pages/mentions-legales/"].content
    assert all(page.sites.filter(pk=1).exists() for page in pages.values())


def test_the_cgv_draft_covers_the_right_of_withdrawal(db):
    """Fourteen days, the model withdrawal form, the exceptions, the legal guarantees."""
    cgv = FlatPage.objects.get(url="/pages/cgv/").content

    assert "quatorze jours" in cgv
    assert "Formulaire de rétractation" in cgv
    assert "Je vous notifie par la présente ma rétractation" in cgv
    assert "L221-28" in cgv
    assert "garantie légale de conformité" in cgv
    assert "médiateur de la consommation" in cgv


def test_the_privacy_draft_lists_the_cookies_the_shop_sets(client, db):
    html = client.get("/pages/confidentialite/").content.decode()

    for cookie in ("sessionid", "csrftoken", "messages"):
        assert f"<code>{cookie}</code>" in html
    assert "aucun cookie de mesure d'audience" in html


def test_the_drafts_are_text_files_in_light_markup_not_html(db):
    """The drafts live in templates/pages/drafts/, in the markup the owner edits."""
    for page in LEGAL_PAGES:
        content = FlatPage.objects.get(url=page.url).content
        assert content == page.content
        assert "<p>" not in content
        assert "## " in content


@pytest.mark.parametrize("slug", SLUGS)
def test_each_page_is_served_at_its_path(client, db, slug):
    page = FlatPage.objects.get(url=f"/pages/{slug}/")

    response = client.get(f"/pages/{slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{page.title}</h1>" in html
    assert f"<title>{page.title} · Boutique</title>" in html
    assert f'<link rel="canonical" href="https://boutique.test/pages/{slug}/">' in html


def test_the_drafts_link_the_pages_they_refer_to_and_every_link_works(client, db):
    """« Voir la page « Confidentialité » » is a link a reader can follow, not dead text."""
    hrefs = {
        href
        for page in LEGAL_PAGES
        for href in re.findall(r'<a href="([^"]+)"', render_markup(page.content))
    }

    assert {"/pages/mentions-legales/", "/pages/cgv/", "/pages/confidentialite/"} <= hrefs
    assert "/pages/livraison-retours/" in hrefs
    for href in hrefs:
        assert client.get(href).status_code == 200, href


def test_the_owner_edits_a_page_in_light_markup_and_the_shop_shows_it(client, db):
    FlatPage.objects.filter(url="/pages/mentions-legales/").update(
        content="## Éditeur\n\nAtelier **Dupont**, SIRET 123 456 789 00012.\n\n- un\n- deux"
    )

    html = client.get("/pages/mentions-legales/").content.decode()

    assert "<h2>Éditeur</h2>" in html
    assert "<p>Atelier <strong>Dupont</strong>, SIRET 123 456 789 00012.</p>" in html
    assert "<li>un</li>" in html
    assert "[SIRET]" not in html


def test_a_page_written_in_html_before_still_renders(client, db):
    FlatPage.objects.filter(url="/pages/mentions-legales/").update(
        content="<p>Atelier Dupont, SIRET 123 456 789 00012.</p>"
    )

    html = client.get("/pages/mentions-legales/").content.decode()

    assert "<p>Atelier Dupont, SIRET 123 456 789 00012.</p>" in html
    assert "[SIRET]" not in html


def test_drafting_again_keeps_the_owners_text_and_restores_a_deleted_page(db):
    FlatPage.objects.filter(url="/pages/cgv/").update(content="Mes CGV.")
    FlatPage.objects.filter(url="/pages/confidentialite/").delete()

    assert create_legal_pages() == 1

    assert FlatPage.objects.get(url="/pages/cgv/").content == "Mes CGV."
    assert FlatPage.objects.filter(url="/pages/confidentialite/").exists()


def test_an_unknown_page_is_404(client, db):
    assert client.get("/pages/n-existe-pas/").status_code == 404
    assert client.post("/pages/cgv/").status_code == 405


@pytest.mark.parametrize("path", ["/", "/panier/", "/pages/cgv/", "/nulle-part/", "product"])
def test_every_page_links_the_legal_pages_in_its_footer(client, make_product, path):
    if path == "product":
        path = make_product().get_absolute_url()

    html = client.get(path).content.decode()

    footer = html[html.index('<footer class="site-footer">') :]
    for page in LEGAL_PAGES:
        assert f'<a href="{page.url}">{page.title}</a>' in footer


def test_messages_are_a_list_inside_a_status_region(client: Client, make_product):
    """role="status" sits on a wrapper, so the list stays a list for screen readers."""
    product = make_product(name="Carafe")

    response = client.post(f"/panier/ajouter/{product.pk}/", follow=True)

    html = response.content.decode()
    assert [m.level for m in response.context["messages"]] == [constants.SUCCESS]
    assert '<div class="messages" role="status">\n    <ul class="messages__list">' in html
    assert '<ul class="messages" role="status">' not in html
