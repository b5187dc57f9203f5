"""French wording helpers (shop/words.py)."""

import pytest

from shop.words import guillemets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pichet en grès", "« Pichet en grès »"),
        ("Gravure « Jardin des Plantes »", "« Gravure “Jardin des Plantes” »"),
        ("Gravure «Jardin» et «Cour»", "« Gravure “Jardin” et “Cour” »"),
        ("Affiche “Rivoli”", "« Affiche “Rivoli” »"),
    ],
)
def test_guillemets_nest_quotations_the_french_way(text, expected):
    assert guillemets(text) == expected


def test_a_search_for_words_in_guillemets_is_shown_nested(client, db):
    html = client.get("/", {"q": "« vase »"}).content.decode()

    assert "Aucune pièce ne correspond à « “vase” »" in html
