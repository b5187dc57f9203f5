"""Migration 0011: the legal pages still holding an earlier draft get the one that says where
the online withdrawal is; a page the owner edited keeps their text (the dashboard flags it)."""

import hashlib
import importlib

import pytest
from django.apps import apps
from django.contrib.flatpages.models import FlatPage

from products.legal import LEGAL_PAGES, create_legal_pages

pytestmark = pytest.mark.django_db

DRAFTS = {page.url: page.content for page in LEGAL_PAGES}


@pytest.fixture
def migration():
    return importlib.import_module("products.migrations.0011_withdrawal_online_in_drafts")


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def test_an_untouched_earlier_draft_is_replaced_and_an_edited_page_kept(migration, monkeypatch):
    create_legal_pages()
    old_cgv = "## 7. Droit de rétractation\n\nÉcrivez-nous à [adresse e-mail]."
    monkeypatch.setitem(migration.PREVIOUS_DRAFTS, "/pages/cgv/", {sha(old_cgv)})
    FlatPage.objects.filter(url="/pages/cgv/").update(content=old_cgv + "\n")
    edited = "## Retours\n\nÉcrivez-nous à atelier@example.com, nous répondons vite."
    FlatPage.objects.filter(url="/pages/livraison-retours/").update(content=edited)

    migration.forwards(apps, None)

    assert FlatPage.objects.get(url="/pages/cgv/").content == DRAFTS["/pages/cgv/"]
    assert "/retractation/" in FlatPage.objects.get(url="/pages/cgv/").content
    assert FlatPage.objects.get(url="/pages/livraison-retours/").content == edited


def test_the_current_drafts_are_not_taken_for_earlier_ones(migration):
    """Run again, the migration changes nothing: today's drafts are not in its list."""
    for url, hashes in migration.PREVIOUS_DRAFTS.items():
        assert sha(DRAFTS[url]) not in hashes
        assert len(hashes) == 2
