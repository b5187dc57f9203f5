"""The shop's words: its name and tagline, from settings (usable even where a page is
rendered without a request, such as the 500 page, unlike the context processor's values),
names in guillemets, and countries by their French name."""

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
