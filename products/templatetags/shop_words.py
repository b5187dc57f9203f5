"""The shop's words: its name and tagline, from settings (usable even where a page is
rendered without a request, such as the 500 page, unlike the context processor's values),
names in guillemets, countries by their French name, days and moments in words."""

from datetime import date, datetime

from django import template
from django.conf import settings
from django_countries import countries

from shop import words

register = template.Library()


@register.filter
def guillemets(text: str) -> str:
    """« text », with any guillemets inside it nested as “ ” (shop/words.py)."""
    return words.guillemets(text)


@register.simple_tag
def shop_name() -> str:
    return settings.SHOP_NAME


@register.simple_tag
def shop_tagline() -> str:
    return settings.SHOP_TAGLINE


@register.filter
def country_name(code: str) -> str:
    """A country's French name from its ISO code (« FR » → « France »); an unknown code
    is shown as it is."""
    return countries.name(code) or code if code else ""


@register.filter
def in_words(value: date | datetime | None, length: str = "") -> str:
    """« samedi 12 décembre 2026 »: a day (a moment's day in Paris) in words;
    `|in_words:"court"`: « 12 décembre 2026 »."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(words.PARIS).date()
    return words.day_in_words(value, weekday=length != "court")


@register.filter
def moment_in_words(value: datetime | None) -> str:
    """« samedi 12 décembre 2026 à 14:03:07 (heure de Paris) »."""
    return words.paris_moment(value) if value else ""
