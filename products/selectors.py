"""Reading the catalogue: search, sort and filter (`/?q=...&tri=...&vendues=0`)."""

import unicodedata
from dataclasses import dataclass

from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField
from django.http import QueryDict

from products.models import Category, Product

SEARCH_CONFIG = "french_unaccent"  # created by migration 0004 (PostgreSQL)
MAX_QUERY_LENGTH = 100


class Sort:
    RECENT = "recent"
    PRICE = "prix"
    PRICE_DESC = "prix-desc"
    CHOICES = [(RECENT, "Nouveautés"), (PRICE, "Prix croissant"), (PRICE_DESC, "Prix décroissant")]
    ORDER = {
        RECENT: ["-created_at", "-id"],
        PRICE: ["price", "-id"],
        PRICE_DESC: ["-price", "-id"],
    }


class CatalogueForm(forms.Form):
    """The catalogue's GET parameters. A bad value is ignored, never an error page."""

    q = forms.CharField(label="Rechercher", max_length=MAX_QUERY_LENGTH, required=False)
    tri = forms.ChoiceField(label="Trier par", choices=Sort.CHOICES, required=False)
    vendues = forms.ChoiceField(
        label="Pièces vendues", choices=[("1", "Montrer"), ("0", "Masquer")], required=False
    )


@dataclass(frozen=True)
class CatalogueQuery:
    """What the shopper asked for, cleaned: words, sort, whether sold pieces show."""

    words: str = ""
    sort: str = ""  # empty: newest first, or relevance when searching
    show_sold: bool = True

    @classmethod
    def from_params(cls, params) -> "CatalogueQuery":
        """What CatalogueForm would clean out of `params`, without building the form (it was
        a tenth of a cached catalogue page): a value the form refuses counts as absent."""
        words = str(params.get("q", "")).strip()
        if len(words) > MAX_QUERY_LENGTH or "\x00" in words:
            words = ""
        sort = str(params.get("tri", ""))
        return cls(
            words=" ".join(words.split()),
            sort=sort if sort in Sort.ORDER else "",
            show_sold=params.get("vendues") != "0",
        )

    def params(self) -> QueryDict:
        """The query string that asks for this again, without anything else the URL had."""
        params = QueryDict(mutable=True)
        if self.words:
            params["q"] = self.words
        if self.sort:
            params["tri"] = self.sort
        if not self.show_sold:
            params["vendues"] = "0"
        return params

    @property
    def is_filtered(self) -> bool:
        return bool(self.words) or not self.show_sold


def fold(text: str | None) -> str:
    """Lower case, without accents: "Théière" -> "theiere" (SQLite's search)."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def singular(word: str) -> str:
    """A folded word without its French plural mark, for SQLite's substring match: "chaises"
    -> "chaise", "bijoux" -> "bijou", "chevaux" -> "cheva" (which "cheval" contains too).

    The match is by substring, so the singular form finds the plural as well ("chaise" is in
    "chaises"). Short words are kept whole ("bas", "os"): a stem of one or two letters would
    match nearly everything."""
    if word.endswith("aux") and len(word) > 4:
        return word[:-2]
    if word.endswith(("s", "x")) and len(word) > 3:
        return word[:-1]
    return word


class Fold(Func):
    """`fold()` in SQL: a function registered on each SQLite connection (products/apps.py)."""

    function = "boutique_fold"
    output_field = TextField()


def _search(products: QuerySet[Product], words: str) -> QuerySet[Product]:
    if connection.vendor == "postgresql":
        vector = SearchVector("name", weight="A", config=SEARCH_CONFIG) + SearchVector(
            "description", weight="B", config=SEARCH_CONFIG
        )
        query = SearchQuery(words, config=SEARCH_CONFIG, search_type="websearch")
        return products.annotate(search=vector, rank=SearchRank(F("search"), query)).filter(
            search=query
        )
    # SQLite: every word, accents, case and a plural mark aside, in the name or the description.
    products = products.annotate(folded_name=Fold("name"), folded_description=Fold("description"))
    for word in map(singular, fold(words).split()):
        products = products.filter(
            Q(folded_name__contains=word) | Q(folded_description__contains=word)
        )
    return products


def catalogue_products(
    *, query: CatalogueQuery, category: Category | None = None
) -> QuerySet[Product]:
    """The pieces to list, with their status, in the order asked for."""
    products = Product.objects.with_status()
    if category is not None:
        products = products.filter(category=category)
    if not query.show_sold:
        products = products.filter(in_stock=True)
    if query.words:
        products = _search(products, query.words)
    if query.sort:
        return products.order_by(*Sort.ORDER[query.sort])
    if query.words and connection.vendor == "postgresql":
        return products.order_by(F("rank").desc(), "-created_at", "-id")
    return products.order_by(*Sort.ORDER[Sort.RECENT])
