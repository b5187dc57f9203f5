"""The owner's pages (django.contrib.flatpages) under /pages/<slug>/: their addresses, their
light markup, their placeholders, the footer's list.

- **Addresses.** A page lives at `/pages/<slug>/`, its slug derived from its title when it is
  created (admin). The four legal pages (products/legal.py) keep theirs: the footer, the CGV
  box and the drafts link to them, so the admin neither changes nor deletes them.
- **Markup.** The owner writes text, not HTML: a blank line between paragraphs, `## ` for a
  heading, `- ` for a list, `**bold**`, `[text](/pages/cgv/)` for a link (CommonMark, through
  markdown-it-py). HTML typed into a page (pages written before, in HTML) still renders;
  either way the result is cleaned by nh3 to a short list of tags and attributes, with no
  script, style or event handler, so a page can never run code on the shop's origin.
- **Placeholders.** Drafts hold « [Raison sociale] »-like placeholders; `pages_with_placeholders`
  lists the pages that still hold one (the admin's page form warns about them too).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

import nh3
from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.core.cache import cache
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from markdown_it import MarkdownIt

from products.legal import LEGAL_URLS

PREFIX = "/pages/"
FOOTER_KEY = "pages:footer"
# How long a process may show the footer's list after another process changed a page (with
# the per-process default cache; a shared cache is told at once).
FOOTER_SECONDS = 60

_markdown = MarkdownIt("commonmark", {"html": True})
_TAGS = {
    *("p", "br", "hr", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "pre", "code"),
    *("strong", "em", "b", "i", "a", "table", "thead", "tbody", "tr", "th", "td"),
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
# « [Raison sociale] », not a link's text (« [mentions légales](/pages/…) »).
_PLACEHOLDER = re.compile(r"\[([^\[\]]{2,300}?)\](?!\()")


def url_for(slug: str) -> str:
    return f"{PREFIX}{slug}/"


def slug_for(title: str) -> str:
    """The page's address from its title: « À propos de l'atelier » -> a-propos-de-latelier."""
    return slugify(title)[:90].strip("-")


def slug_of(page: FlatPage) -> str:
    return page.url.removeprefix(PREFIX).strip("/")


def is_legal(page: FlatPage) -> bool:
    return page.url in LEGAL_URLS


def render_markup(text: str) -> SafeString:
    """The page's text as HTML safe to serve: CommonMark, then cleaned to `_TAGS`."""
    html = _markdown.render(text or "")
    # Safe: nh3 keeps only the tags and attributes listed above.
    return mark_safe(
        nh3.clean(
            html,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes={"http", "https", "mailto", "tel"},
            link_rel="noopener noreferrer",
        )
    )


def placeholders_in(text: str) -> list[str]:
    """The placeholders still in `text`, in order, each once: ["[Raison sociale]", …]."""
    found = (" ".join(m.group(0).split()) for m in _PLACEHOLDER.finditer(text or ""))
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class PageToComplete:
    page: FlatPage
    placeholders: list[str]


def pages_with_placeholders() -> list[PageToComplete]:
    """The shop's pages that still hold a « [placeholder] », legal pages first: what the
    owner must complete before opening the shop (the admin's dashboard warns about it)."""
    candidates = FlatPage.objects.filter(sites=settings.SITE_ID, content__contains="[")
    found = [
        PageToComplete(page, placeholders)
        for page in candidates.order_by("url")
        if (placeholders := placeholders_in(page.content))
    ]
    return sorted(found, key=lambda item: not is_legal(item.page))


@dataclass(frozen=True)
class FooterLink:
    title: str
    url: str


def footer_pages() -> list[FooterLink]:
    """The owner's own pages (not the legal ones, which the footer always links), by title.

    Read from the cache: the database is asked at most once per FOOTER_SECONDS per process,
    and again as soon as a page is saved or deleted (`page_changed`)."""
    links = cache.get(FOOTER_KEY)
    if links is None:
        pages = FlatPage.objects.filter(
            sites=settings.SITE_ID, url__startswith=PREFIX, registration_required=False
        ).exclude(url__in=LEGAL_URLS)
        links = [FooterLink(p.title, p.url) for p in pages.order_by("title", "url")]
        cache.set(FOOTER_KEY, links, FOOTER_SECONDS)
    return links


def page_changed(sender, using: str, **kwargs) -> None:
    """A page was saved or deleted: the footer's list is read again, and cached shop pages,
    which show it, are rendered again (products/page_cache.py), once the change commits."""
    from products import stock_version

    transaction.on_commit(lambda: cache.delete(FOOTER_KEY), using=using, robust=True)
    stock_version.changed(using)


def free_slug(title: str, taken: Iterable[str]) -> str:
    """`slug_for(title)`, or with -2, -3… when another page has that address already."""
    base = slug_for(title) or "page"
    taken = set(taken)
    slug, n = base, 2
    while url_for(slug) in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
