"""The demo catalogue command (`manage.py load_demo`): two dozen pieces, safe to run twice."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from products.demo import DEMO_CATEGORIES, DEMO_EXTRA_PHOTOS, DEMO_PIECES, demo_image
from products.legal import LEGAL_PAGES
from products.models import Category, Product, ProductImage
from products.photos import GenerateOnSave


@pytest.fixture(autouse=True)
def _renditions_only_where_looked_at(request: pytest.FixtureRequest, monkeypatch) -> None:
    """Writing 128 WebP renditions takes seconds: only the tests that look at them (those
    using `with_renditions`) pay for it."""
    if "with_renditions" not in request.fixturenames:
        monkeypatch.setattr(GenerateOnSave, "on_source_saved", lambda self, file: None)


@pytest.fixture
def with_renditions() -> None:
    """The demo's photos get their renditions, as in `make run`."""


def _load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def _media_files(settings) -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}


def _photos(settings) -> set[Path]:
    """The uploaded photos, without their renditions."""
    return {p for p in _media_files(settings) if p.parts[0] == "products"}


EXTRA_PHOTOS = sum(len(alts) for _, alts in DEMO_EXTRA_PHOTOS)


def test_demo_loads_24_pieces_with_generated_photos(db, settings):
    """The first run creates 24 pieces, each with a 600×600 JPEG stored in MEDIA_ROOT."""
    output = _load_demo()

    assert "24 created, 0 already there" in output
    products = list(Product.objects.all())
    assert len(products) == 24 == len(DEMO_PIECES)
    assert len({p.slug for p in products}) == 24
    for product in products:
        assert product.in_stock
        assert product.price > 0
        assert product.description
        path = Path(product.image.path)
        assert path.is_file()
        assert path.is_relative_to(Path(settings.MEDIA_ROOT))
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.size == (600, 600)
    assert len(_photos(settings)) == 24 + EXTRA_PHOTOS


def test_demo_sorts_the_pieces_into_categories(db):
    """Five categories in their order, each with pieces; every piece has a category."""
    _load_demo()

    categories = list(Category.objects.all())
    assert [c.name for c in categories] == [name for name, _, _ in DEMO_CATEGORIES]
    assert all(c.description and c.products.exists() for c in categories)
    assert not Product.objects.filter(category=None).exists()
    assert Product.objects.get(slug="theiere-en-fonte-emaillee").category.name == "Arts de la table"


def test_demo_gives_some_pieces_several_photos_with_their_renditions(db, with_renditions):
    """A few pieces have more photos, described for screen readers; every photo has its
    WebP renditions written at load time, at the sizes the pages announce."""
    _load_demo()

    fauteuil = Product.objects.get(slug="fauteuil-bridge-annees-50")
    assert [i.alt for i in fauteuil.images.all()] == [
        "Le fauteuil de trois quarts",
        "Détail du velours et du pied",
    ]
    assert ProductImage.objects.count() == EXTRA_PHOTOS
    for source in [*Product.objects.all(), *ProductImage.objects.all()]:
        for rendition, size in [
            ("card_small", 320),
            ("card_large", 640),
            ("photo_medium", 640),
            ("photo_large", 1200),
        ]:
            path = Path(getattr(source, rendition).path)
            with Image.open(path) as image:
                assert (image.format, image.size) == ("WEBP", (size, size)), path


def test_demo_brings_the_legal_drafts(db):
    """The legal pages exist after load_demo, even where they were deleted."""
    from django.contrib.flatpages.models import FlatPage

    FlatPage.objects.all().delete()

    _load_demo()

    assert sorted(FlatPage.objects.values_list("url", flat=True)) == sorted(
        page.url for page in LEGAL_PAGES
    )


def test_demo_names_are_french(db):
    """The pieces have French names (accents included) and readable ASCII slugs."""
    _load_demo()

    names = set(Product.objects.values_list("name", flat=True))
    assert "Vase en grès émaillé bleu" in names
    assert "Huile sur toile « Port de Honfleur »" in names
    assert Product.objects.get(name="Vase en grès émaillé bleu").slug == "vase-en-gres-emaille-bleu"
    assert all(slug.isascii() for slug in Product.objects.values_list("slug", flat=True))


def test_demo_run_twice_creates_no_duplicates(db, settings):
    """A second run adds no piece and no file, and leaves the existing pieces as they were."""
    _load_demo()
    before = {p.slug: (p.pk, p.image.name, p.updated_at) for p in Product.objects.all()}
    files_before = _media_files(settings)

    output = _load_demo()

    assert "0 created, 24 already there" in output
    after = {p.slug: (p.pk, p.image.name, p.updated_at) for p in Product.objects.all()}
    assert after == before
    assert _media_files(settings) == files_before


def test_demo_completes_a_partial_catalogue(db):
    """Pieces removed since the last run come back; the others stay, untouched."""
    _load_demo()
    kept = Product.objects.get(slug="miroir-soleil-en-rotin")
    others = Product.objects.exclude(pk=kept.pk).values("pk")[:5]
    Product.objects.filter(pk__in=[row["pk"] for row in others]).delete()

    output = _load_demo()

    assert "5 created, 19 already there" in output
    assert Product.objects.count() == 24
    assert Product.objects.get(slug="miroir-soleil-en-rotin").pk == kept.pk


def test_demo_leaves_the_owners_own_piece_alone(make_product):
    """A piece of the owner with a demo slug is neither duplicated nor overwritten."""
    mine = make_product(name="Mon miroir", slug="miroir-soleil-en-rotin", price="500.00")

    _load_demo()

    mine.refresh_from_db()
    assert mine.name == "Mon miroir"
    assert str(mine.price) == "500.00"
    assert Product.objects.filter(slug="miroir-soleil-en-rotin").count() == 1
    assert Product.objects.count() == 24


def test_if_empty_does_nothing_when_the_catalogue_has_pieces(make_product, settings):
    """`--if-empty` (what `make run` uses) keeps the owner's catalogue as it is."""
    make_product(name="Ma seule pièce")

    output = _load_demo("--if-empty")

    assert "nothing loaded" in output
    assert list(Product.objects.values_list("name", flat=True)) == ["Ma seule pièce"]
    assert _media_files(settings) == set()


def test_if_empty_loads_the_demo_into_an_empty_catalogue(db):
    """`--if-empty` on a fresh database loads the 24 pieces."""
    _load_demo("--if-empty")

    assert Product.objects.count() == 24


def test_demo_images_are_drawn_locally_and_reproducibly():
    """The same name gives the same picture (no download, no randomness)."""
    first = demo_image("Théière en fonte émaillée").read()
    second = demo_image("Théière en fonte émaillée").read()
    other = demo_image("Carafe en cristal taillé").read()

    assert first == second
    assert first != other
    assert first[:3] == b"\xff\xd8\xff"  # JPEG
