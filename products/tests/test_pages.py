"""The owner's pages (products/pages.py): created by their title under /pages/, the legal
pages' fixed addresses, the footer's list, safe light markup, placeholders flagged."""

import hashlib
import importlib
import json
import re

import pytest
from django.contrib.flatpages.models import FlatPage
from django.contrib.messages import get_messages
from django.contrib.sites.models import Site
from django.urls import reverse

from products import pages
from products.legal import LEGAL_PAGES
from products.tests.markup import attribute_of

ADD = reverse("admin:flatpages_flatpage_add")
CHANGELIST = reverse("admin:flatpages_flatpage_changelist")


def _change(page: FlatPage) -> str:
    return reverse("admin:flatpages_flatpage_change", args=[page.pk])


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m.message)) for m in get_messages(response.wsgi_request)]


def _footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">') :]


def _page(title: str, slug: str, content: str = "Texte.") -> FlatPage:
    page = FlatPage.objects.create(url=pages.url_for(slug), title=title, content=content)
    page.sites.add(Site.objects.get_current())
    return page


# Creating a page


def test_the_add_form_derives_the_address_from_the_title(admin_client):
    """The owner types a title; the address fills itself in (and shows /pages/…/)."""
    html = admin_client.get(ADD).content.decode()

    fields = json.loads(
        attribute_of(
            html,
            tag_id="django-admin-prepopulated-fields-constants",
            attribute="data-prepopulated-fields",
        )
    )
    assert {"id": "#id_slug", "dependency_ids": ["#id_title"]}.items() <= fields[0].items()
    assert "sera en ligne à l'adresse /pages/a-propos/" in html
    assert 'name="url"' not in html
    assert "Options avancées" not in html


def test_a_page_created_by_its_title_is_served_at_its_address(admin_client, client):
    """The owner's « À propos » is at /pages/a-propos/ (not a 404), « Voir sur le site »
    opens it, the success message says where it is, and every footer links it."""
    response = admin_client.post(
        ADD,
        {"title": "À propos", "slug": "a-propos", "content": "Notre **atelier**, à Lyon."},
        follow=True,
    )

    page = FlatPage.objects.get(title="À propos")
    assert page.url == "/pages/a-propos/"
    assert (
        "success",
        '« À propos » est en ligne à l\'adresse <a href="/pages/a-propos/">/pages/a-propos/</a>.',
    ) in _messages(response)
    served = client.get("/pages/a-propos/")
    assert served.status_code == 200
    assert "<p>Notre <strong>atelier</strong>, à Lyon.</p>" in served.content.decode()
    change = admin_client.get(_change(page)).content.decode()
    [href] = re.findall(r'<a href="([^"]+)" class="viewsitelink"', change)
    assert client.get(href).status_code == 200
    for path in ("/", "/panier/", "/pages/cgv/"):
        footer = _footer(client.get(path).content.decode())
        assert '<a href="/pages/a-propos/">À propos</a>' in footer, path


def test_an_address_already_taken_is_refused(admin_client, db):
    _page("À propos", "a-propos")

    response = admin_client.post(
        ADD, {"title": "À propos", "slug": "a-propos", "content": "Doublon."}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"] == [
        "Une autre page est déjà à l'adresse /pages/a-propos/ : choisissez une autre adresse."
    ]
    assert FlatPage.objects.filter(title="À propos").count() == 1


def test_an_address_that_is_not_a_slug_is_refused(admin_client, db):
    response = admin_client.post(ADD, {"title": "Atelier", "slug": "/a propos/", "content": "x"})

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert not FlatPage.objects.filter(title="Atelier").exists()


def test_the_owner_moves_their_own_page(admin_client, client, db):
    page = _page("Atelier", "atelier")

    response = admin_client.post(
        _change(page), {"title": "L'atelier", "slug": "l-atelier", "content": "Texte."}
    )

    assert response.status_code == 302
    assert client.get("/pages/l-atelier/").status_code == 200
    assert client.get("/pages/atelier/").status_code == 404


# The legal pages' fixed addresses


@pytest.mark.parametrize("legal", LEGAL_PAGES, ids=lambda p: p.slug)
def test_a_legal_pages_address_cannot_be_changed(admin_client, client, legal):
    """The footer and the CGV box link the four legal pages: the owner edits their text,
    never their address."""
    page = FlatPage.objects.get(url=legal.url)
    form = admin_client.get(_change(page)).content.decode()
    assert re.search(r'<input[^>]*name="slug"[^>]*disabled', form)
    assert "Adresse fixe" in form

    response = admin_client.post(
        _change(page), {"title": legal.title, "slug": "ailleurs", "content": "Mon texte."}
    )

    assert response.status_code == 302
    page.refresh_from_db()
    assert page.url == legal.url
    assert page.content == "Mon texte."
    assert client.get(legal.url).status_code == 200


def test_a_legal_page_cannot_be_deleted(admin_client, db):
    cgv = FlatPage.objects.get(url="/pages/cgv/")
    own = _page("Atelier", "atelier")

    assert (
        admin_client.get(reverse("admin:flatpages_flatpage_delete", args=[cgv.pk])).status_code
        == 403
    )
    admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [cgv.pk, own.pk], "post": "yes"},
    )

    assert FlatPage.objects.filter(url="/pages/cgv/").exists()
    own_delete = admin_client.post(
        reverse("admin:flatpages_flatpage_delete", args=[own.pk]), {"post": "yes"}
    )
    assert own_delete.status_code == 302
    assert not FlatPage.objects.filter(pk=own.pk).exists()


def test_no_page_can_take_a_legal_pages_address(admin_client, db):
    FlatPage.objects.filter(url="/pages/cgv/").delete()

    response = admin_client.post(ADD, {"title": "CGV", "slug": "cgv", "content": "x"})

    assert response.context["adminform"].form.errors["slug"] == [
        "Cette adresse est réservée à une page légale."
    ]


# The footer


def test_the_footer_lists_the_owners_pages_once_after_the_legal_ones(client, db):
    _page("Notre histoire", "notre-histoire")
    _page("Atelier", "atelier")

    footer = _footer(client.get("/").content.decode())

    links = re.findall(r'<li><a href="([^"]+)">', footer)
    assert links == [p.url for p in LEGAL_PAGES] + ["/pages/atelier/", "/pages/notre-histoire/"]


def test_a_page_saved_or_deleted_shows_in_the_footer_at_once(
    client, db, django_capture_on_commit_callbacks
):
    assert "Atelier" not in _footer(client.get("/").content.decode())  # the list is cached

    with django_capture_on_commit_callbacks(execute=True):
        page = _page("Atelier", "atelier")
    assert '<a href="/pages/atelier/">Atelier</a>' in _footer(client.get("/").content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        page.delete()
    assert "Atelier" not in _footer(client.get("/").content.decode())


# The markup, safe


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[clic](javascript:alert(1))",
        '<a href="javascript:alert(1)">clic</a>',
        '<p style="color:red" onclick="alert(1)">Texte</p>',
        "<iframe src='https://evil.example'></iframe>",
    ],
)
def test_a_page_can_never_run_code_on_the_shop(client, db, text):
    _page("Piège", "piege", text)

    html = client.get("/pages/piege/").content.decode()
    body = html[html.index("<h1>Piège</h1>") : html.index("</article>")]

    forbidden_parts = (
        "<script",
        "onerror",
        "onclick",
        'href="javascript',
        "style=",
        "<iframe",
        "<img",
    )
    for forbidden in forbidden_parts:
        assert forbidden not in body, forbidden


def test_links_keep_their_address_and_open_safely(db):
    html = pages.render_markup("Voir les [CGV](/pages/cgv/) ou [écrire](mailto:a@example.com).")

    assert '<a href="/pages/cgv/" rel="noopener noreferrer">CGV</a>' in html
    assert '<a href="mailto:a@example.com" rel="noopener noreferrer">écrire</a>' in html


# Placeholders


def test_placeholders_are_found_but_not_link_texts():
    text = (
        "[Raison sociale], SIRET [SIRET]. Voir les [CGV](/pages/cgv/).\n"
        "[Raison sociale] [numéro\n  de TVA]"
    )

    assert pages.placeholders_in(text) == ["[Raison sociale]", "[SIRET]", "[numéro de TVA]"]


def test_the_selector_lists_the_pages_still_holding_placeholders(db):
    """What the dashboard warns about: every legal draft at first, each with what is left;
    a page completed leaves the list; an owner's page with a placeholder joins it."""
    found = {item.page.url: item.placeholders for item in pages.pages_with_placeholders()}
    assert set(found) == {p.url for p in LEGAL_PAGES}
    assert "[SIRET]" in found["/pages/mentions-legales/"]

    FlatPage.objects.filter(url="/pages/mentions-legales/").update(
        content="Atelier Dupont, SIRET 123 456 789 00012. Voir les [CGV](/pages/cgv/)."
    )
    _page("Atelier", "atelier", "Ouvert le [jour].")
    _page("Histoire", "histoire", "Tout est rempli.")

    listed = [item.page.url for item in pages.pages_with_placeholders()]
    assert "/pages/mentions-legales/" not in listed
    assert listed[-1] == "/pages/atelier/"  # legal pages first
    assert "/pages/histoire/" not in listed


def test_the_page_form_warns_about_placeholders_and_the_list_counts_them(admin_client, db):
    cgv = FlatPage.objects.get(url="/pages/cgv/")
    count = len(pages.placeholders_in(cgv.content))

    response = admin_client.get(_change(cgv))

    [(level, text)] = _messages(response)
    assert level == "warning"
    assert text.startswith(
        f"« Conditions générales de vente » est en ligne mais contient encore {count} "
        "passages entre crochets à remplacer par vos informations : [date], [Raison sociale]"
    )
    listing = admin_client.get(CHANGELIST).content.decode()
    assert f"{count} passages entre crochets" in listing
    assert "Page légale, adresse fixe" in listing

    done = admin_client.post(
        _change(cgv), {"title": cgv.title, "slug": "cgv", "content": "CGV complètes."}
    )
    assert [m for m in _messages(done) if m[0] == "warning"] == []


# The migration of existing pages


@pytest.fixture
def migration():
    return importlib.import_module("products.migrations.0007_pages_markup_and_addresses")


def test_the_migration_turns_an_untouched_html_draft_into_markup_and_keeps_edited_text(
    db, migration, monkeypatch
):
    from django.apps import apps

    old_draft = "<h2>Éditeur</h2>\n<p>[Raison sociale]</p>"
    monkeypatch.setitem(
        migration.HTML_DRAFTS,
        "/pages/mentions-legales/",
        hashlib.sha256(old_draft.encode()).hexdigest(),
    )
    FlatPage.objects.filter(url="/pages/mentions-legales/").update(content=old_draft + "\n")
    FlatPage.objects.filter(url="/pages/cgv/").update(content="<p>Mes CGV, en HTML.</p>")

    migration.forwards(apps, None)

    assert FlatPage.objects.get(url="/pages/mentions-legales/").content == LEGAL_PAGES[0].content
    assert FlatPage.objects.get(url="/pages/cgv/").content == "<p>Mes CGV, en HTML.</p>"


def test_the_migration_moves_pages_created_outside_pages_to_be_served(db, migration, client):
    """« /a-propos/ », as the admin once suggested, was a 404: it moves under /pages/."""
    from django.apps import apps

    FlatPage.objects.create(url="/a-propos/", title="À propos", content="Notre atelier.")
    _page("Déjà là", "contact")
    FlatPage.objects.create(url="/contact/", title="Contact", content="Écrivez-nous.")

    migration.forwards(apps, None)

    assert FlatPage.objects.get(title="À propos").url == "/pages/a-propos/"
    assert FlatPage.objects.get(title="Contact").url == "/pages/contact-2/"
    assert FlatPage.objects.get(title="Déjà là").url == "/pages/contact/"
