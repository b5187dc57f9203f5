"""The catalogue searched, sorted and filtered (`/?q=&tri=&vendues=`), and category pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from products.models import Category, Product
from products.selectors import fold, singular
from products.tests.markup import stock_statuses


def _listed(client: Client, path: str = "/", **params: str) -> list[int]:
    """The ids of the pieces the page lists, in order."""
    response = client.get(path, params)
    assert response.status_code == 200
    return list(stock_statuses(response.content.decode()))


def _aged(product: Product, minutes: int) -> Product:
    Product.objects.filter(pk=product.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )
    return product


@pytest.fixture
def pieces(make_product) -> dict[str, Product]:
    return {
        "theiere": _aged(
            make_product(name="Théière en fonte émaillée", description="Émail rouge.", price=54),
            30,
        ),
        "chaises": _aged(
            make_product(name="Deux chaises bistrot", description="Bois courbé.", price=140),
            20,
        ),
        "fauteuil": _aged(
            make_product(name="Fauteuil bridge", description="Velours vert.", price=420), 10
        ),
    }


# Search, on both databases


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("theiere", ["theiere"]),  # no accents typed, accents in the name
        ("THÉIÈRE", ["theiere"]),
        ("fonte emaillee", ["theiere"]),  # every word must match
        ("velours", ["fauteuil"]),  # the description counts too
        ("commode", []),
    ],
)
def test_search_ignores_accents_and_case(client, pieces, words, expected):
    """Accents and capitals do not matter, whatever the database."""
    assert _listed(client, q=words) == [pieces[name].pk for name in expected]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("chaise", ["chaises"]),  # the singular finds the plural
        ("chaises", ["chaises"]),
        ("fauteuils", ["fauteuil"]),  # and the plural the singular
        ("THÉIÈRES", ["theiere"]),
        ("fauteuils bridges", ["fauteuil"]),
        ("bridges rouges", []),  # every word must still match
    ],
)
def test_search_finds_singulars_and_plurals_on_every_database(client, pieces, words, expected):
    """« chaises » finds « Deux chaises », « fauteuils » finds « Fauteuil » (README), on
    SQLite as on PostgreSQL."""
    assert _listed(client, q=words) == [pieces[name].pk for name in expected]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("chaises", "chaise"),
        ("bijoux", "bijou"),
        ("chevaux", "cheva"),  # in "cheval" and in "chevaux"
        ("vitraux", "vitra"),
        ("chaise", "chaise"),
        ("bas", "bas"),  # too short to lose a letter
        ("os", "os"),
    ],
)
def test_singular_drops_the_french_plural_mark(word, expected):
    assert singular(word) == expected


def test_sqlite_search_finds_irregular_plurals_in_aux(client, make_product):
    cheval = make_product(name="Cheval à bascule")

    assert _listed(client, q="chevaux") == [cheval.pk]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("chaise", ["chaises"]),  # singular finds the plural
        ("théières", ["theiere"]),  # and the plural the singular
        ("fauteuils verts", ["fauteuil"]),
        ("emaillees", ["theiere"]),
    ],
)
def test_postgresql_search_is_french_full_text(client, pieces, words, expected):
    """On PostgreSQL the `french_unaccent` configuration stems French words."""
    assert _listed(client, q=words) == [pieces[name].pk for name in expected]


@pytest.mark.postgres
def test_postgresql_search_ranks_the_name_above_the_description(client, make_product):
    """Without `tri`, a piece named after the words comes before one that only mentions them,
    even when it is older."""
    named = _aged(make_product(name="Miroir soleil", description="Rotin."), 60)
    mentioned = make_product(name="Console", description="Vendue avec un petit miroir.")

    assert _listed(client, q="miroir") == [named.pk, mentioned.pk]
    assert _listed(client, q="miroir", tri="recent") == [mentioned.pk, named.pk]


@pytest.mark.postgres
def test_the_migration_created_the_french_unaccent_configuration(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('french_unaccent', 'Théières émaillées')::text")
        assert cursor.fetchone()[0] == "'emaille':2 'theier':1"


def test_fold_is_the_sqlite_fallbacks_accent_folding():
    assert fold("Théière ÉMAILLÉE, Œuvre") == "theiere emaillee, œuvre"
    assert fold(None) == ""


def test_a_search_without_result_says_so_and_offers_the_catalogue(client, pieces):
    html = client.get("/", {"q": "commode"}).content.decode()

    assert "Aucune pièce ne correspond à « commode »." in html
    assert '<a class="button" href="/">Voir tout le catalogue</a>' in html
    assert "Le catalogue est vide" not in html


def test_the_search_box_keeps_the_words_and_the_page_says_how_many(client, pieces):
    html = client.get("/", {"q": "  fonte   émaillée "}).content.decode()

    assert 'name="q" value="fonte émaillée"' in html
    assert "1 pièce pour « fonte émaillée »" in html
    assert "<title>Recherche « fonte émaillée » · Boutique</title>" in html
    assert '<meta name="robots" content="noindex, follow">' in html


def test_the_words_are_escaped(client, pieces):
    html = client.get("/", {"q": '<script>alert("x")</script>'}).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


# Sort and filter


def test_sort_orders(client, pieces):
    """Newest first by default and with `tri=recent`; by price up and down."""
    by_name = {name: p.pk for name, p in pieces.items()}
    newest = [by_name["fauteuil"], by_name["chaises"], by_name["theiere"]]

    assert _listed(client) == newest
    assert _listed(client, tri="recent") == newest
    assert _listed(client, tri="prix") == [
        by_name["theiere"],
        by_name["chaises"],
        by_name["fauteuil"],
    ]
    assert _listed(client, tri="prix-desc") == [
        by_name["fauteuil"],
        by_name["chaises"],
        by_name["theiere"],
    ]


def test_sold_pieces_show_by_default_and_hide_with_vendues_0(client, pieces):
    Product.objects.filter(pk=pieces["chaises"].pk).update(in_stock=False)
    held = Product.objects.filter(pk=pieces["theiere"].pk)
    held.update(held_until=timezone.now() + timedelta(minutes=5))

    assert pieces["chaises"].pk in _listed(client)
    assert pieces["chaises"].pk in _listed(client, vendues="1")
    # Hidden: sold pieces only; a reserved piece may still come back.
    assert _listed(client, vendues="0") == [pieces["fauteuil"].pk, pieces["theiere"].pk]


def test_search_sort_and_filter_combine_and_pagination_keeps_them(client, make_product, settings):
    settings.CATALOGUE_PAGE_SIZE = 2
    for n in range(5):
        make_product(name=f"Vase n° {n}", price=10 + n)
    make_product(name="Vase vendu", price=1, in_stock=False)
    make_product(name="Lampe", price=2)

    first = client.get("/", {"q": "vase", "tri": "prix", "vendues": "0"}).content.decode()

    assert "Page 1 sur 3" in first
    assert 'href="?q=vase&amp;tri=prix&amp;vendues=0&amp;page=2"' in first
    second = _listed(client, q="vase", tri="prix", vendues="0", page="2")
    assert [Product.objects.get(pk=pk).name for pk in second] == ["Vase n° 2", "Vase n° 3"]


@pytest.mark.parametrize(
    "params",
    [
        {"tri": "n-importe-quoi"},
        {"vendues": "abc"},
        {"page": "zzz"},
        {"page": "-1"},
        {"q": "x" * 5000},
        {"q": "nul\x00caractère"},
        {"q": "!!! & | ( :* '"},
        {"q": "le la les"},
        {"tri": ["prix", "recent"], "vendues": ["0", "1"]},
    ],
)
def test_junk_parameters_give_a_page_never_an_error(client, pieces, params):
    """Whatever the query string, the catalogue answers 200 with a page."""
    response = client.get("/", params)

    assert response.status_code == 200
    assert "<h1>Pièces uniques</h1>" in response.content.decode()


# Categories


@pytest.fixture
def categories(make_product) -> dict[str, Category]:
    lights = Category.objects.create(
        name="Luminaires", slug="luminaires", description="Lampes recâblées.", position=2
    )
    tables = Category.objects.create(name="Arts de la table", slug="arts-de-la-table", position=1)
    return {"lights": lights, "tables": tables}


def test_category_page_lists_its_pieces_only(client, make_product, categories):
    lamp = make_product(name="Lampe champignon", category=categories["lights"])
    sold_lamp = make_product(name="Applique", category=categories["lights"], in_stock=False)
    make_product(name="Carafe", category=categories["tables"])
    make_product(name="Sans catégorie")

    response = client.get("/categories/luminaires/")

    html = response.content.decode()
    assert response.status_code == 200
    assert stock_statuses(html) == {sold_lamp.pk: "sold", lamp.pk: "available"}
    assert "<h1>Luminaires</h1>" in html
    assert "Lampes recâblées." in html
    assert "<title>Luminaires · Boutique</title>" in html
    assert '<link rel="canonical" href="https://boutique.test/categories/luminaires/">' in html
    assert _listed(client, "/categories/luminaires/", vendues="0") == [lamp.pk]
    assert _listed(client, "/categories/luminaires/", q="applique") == [sold_lamp.pk]


def test_unknown_category_is_404(client, categories):
    assert client.get("/categories/n-existe-pas/").status_code == 404


def test_categories_are_listed_in_the_owners_order_on_the_catalogue(client, categories):
    html = client.get("/").content.decode()

    tables = html.index('<a href="/categories/arts-de-la-table/">Arts de la table</a>')
    lights = html.index('<a href="/categories/luminaires/">Luminaires</a>')
    assert tables < lights
    assert '<a href="/" aria-current="page">Tout</a>' in html


def test_an_empty_category_says_so(client, categories):
    html = client.get("/categories/luminaires/").content.decode()

    assert "Aucune pièce dans cette catégorie pour le moment." in html


def test_a_deleted_category_leaves_its_pieces_in_the_catalogue(client, make_product, categories):
    lamp = make_product(category=categories["lights"])

    categories["lights"].delete()

    lamp.refresh_from_db()
    assert lamp.category is None
    assert _listed(client) == [lamp.pk]
