"""The shop's name and tagline, from settings: usable even where a page is rendered
without a request (the 500 page), unlike the context processor's values."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def shop_name() -> str:
    return settings.SHOP_NAME


@register.simple_tag
def shop_tagline() -> str:
    return settings.SHOP_TAGLINE
