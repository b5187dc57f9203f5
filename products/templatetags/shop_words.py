"""The shop's name and tagline, from settings: usable even where a page is rendered
without a request (the 500 page), unlike the context processor's values."""

from django import template
from django.conf import settings

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
