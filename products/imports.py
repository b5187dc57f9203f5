"""Pieces in and out of a spreadsheet (django-import-export): the admin's « Importer » and
« Exporter » buttons on the pieces' list, CSV or Excel, French column names.

Columns: « Nom », « Adresse web » (the piece's address, /produits/<adresse>/: a row with the
address of an existing piece updates it, so importing the same file twice duplicates
nothing; left empty, it is made from the name), « Catégorie » (its name, as in the admin),
« Prix (€) » (« 320,50 » or « 320.50 », shop/euros.py), « Description », « Photo ».

« Photo » is either an address on the web (https://…/vase.jpg), downloaded, or a file name
(vase.jpg), looked up in the `imports/` folder of the photos' storage: `MEDIA_ROOT/imports/`
on one machine, the `imports/` folder of the bucket with object storage. Left empty, the
piece keeps its photo. The preview checks names and addresses without downloading; photos are
fetched once the import is confirmed and has committed, within a time budget that fits in
the request, each with its own timeout: what is left is said, and importing the same file
again adds it (pieces are updated, not duplicated; photos already there are not fetched
again).

Stock is never imported: a sold or held piece stays so whatever the file says, and an update
writes only the imported fields (a sale recorded meanwhile is never overwritten).
"""

import hashlib
import ipaddress
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import tablib
from diff_match_patch import diff_match_patch
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.encoding import force_str
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from products import seo
from products.models import Category, Product
from shop.euros import parse_euros, plain

logger = logging.getLogger(__name__)

IMPORT_FOLDER = "imports/"
COLUMNS = {
    "name": "Nom",
    "slug": "Adresse web",
    "category": "Catégorie",
    "price": "Prix (€)",
    "description": "Description",
    "photo": "Photo",
    "status": "Statut",
}
# What one confirmed import may spend fetching photos: well inside gunicorn's 30 s, with a
# download's own timeout on top of it.
PHOTOS_BUDGET_SECONDS = 10
DOWNLOAD_TIMEOUT_SECONDS = 8
MAX_PHOTO_BYTES = 25 * 1024 * 1024
MAX_REDIRECTS = 3


class PhotoError(Exception):
    """A photo that cannot be added; `str()` is for the owner, in French."""


# Formats


class FrenchCSV(base_formats.CSV):
    """CSV as French spreadsheets write it too: « ; » between columns (Excel's « CSV
    (séparateur : point-virgule) »), UTF-8 or Windows' own encoding."""

    def is_binary(self) -> bool:
        return True  # read as bytes: the encoding is found here, not assumed

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: Any, **kwargs) -> tablib.Dataset:
        if isinstance(in_stream, bytes):
            try:
                in_stream = in_stream.decode("utf-8-sig")
            except UnicodeDecodeError:
                in_stream = in_stream.decode("cp1252")
        first_line = in_stream.split("\n", 1)[0]
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        return tablib.import_set(in_stream, format="csv", delimiter=delimiter)


FORMATS = [FrenchCSV, base_formats.XLSX]


# Columns


class EurosWidget(widgets.Widget):
    """« 320,50 », « 320.50 » or a spreadsheet's number; written back as « 320,50 »."""

    def clean(self, value: Any, row=None, **kwargs) -> Decimal | None:
        if value is None or value == "":
            return None
        if isinstance(value, float):
            value = Decimal(str(value))
        try:
            return parse_euros(value)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None

    def render(self, value: Any, obj=None, **kwargs) -> str:
        return plain(value)


class CategoryWidget(widgets.Widget):
    """A category by its name (or its address), as the admin lists them; never created by an
    import, so that a typo does not make a new shelf."""

    # Each import has its own copy of the widget (the resource copies its fields): the
    # categories are read once per import, not once per row.
    _categories: list[Category] | None = None

    def clean(self, value: Any, row=None, **kwargs) -> Category | None:
        text = " ".join(str(value or "").split())
        if not text:
            return None
        if self._categories is None:
            self._categories = list(Category.objects.all())
        wanted = text.casefold()
        for category in self._categories:
            if wanted in (category.name.casefold(), category.slug):
                return category
        known = ", ".join(f"« {c.name} »" for c in self._categories) or "aucune"
        raise ValueError(
            f"Catégorie inconnue : « {text} ». Créez-la d'abord (Catalogue › Catégories), ou "
            f"écrivez l'une de celles-ci : {known}."
        )

    def render(self, value: Any, obj=None, **kwargs) -> str:
        return value.name if value else ""


@dataclass(frozen=True)
class PhotoSource:
    """Where a row's photo comes from: an address on the web, or a file in imports/."""

    value: str
    is_url: bool

    @property
    def file_name(self) -> str:
        """The photo's file name: the same for the same source (the storage may add a suffix
        if it is taken), so that a photo imported once is recognised and not fetched again."""
        path = urlsplit(self.value).path if self.is_url else self.value
        suffix = PurePosixPath(path).suffix.lower()[:6] or ".jpg"
        return f"{self.stem}{suffix}"

    @property
    def stem(self) -> str:
        return "import-" + hashlib.sha256(self.value.encode()).hexdigest()[:12]

    def is_photo_of(self, product: Product) -> bool:
        return bool(product.image) and PurePosixPath(product.image.name).name.startswith(self.stem)


def photo_source(value: Any, product: Product) -> PhotoSource | None:
    """The row's « Photo », checked without fetching it; None when it changes nothing (empty,
    or the piece's own photo as an export wrote it)."""
    text = str(value or "").strip()
    if not text:
        return None
    if product.image and text in (product.image.name, seo.absolute_url(product.image.url)):
        return None
    if "://" in text:
        if urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).hostname:
            raise PhotoError(f"« {text} » n'est pas une adresse web de photo (https://…).")
        source = PhotoSource(text, is_url=True)
    else:
        name = PurePosixPath(text)
        if name.is_absolute() or ".." in name.parts:
            raise PhotoError(f"« {text} » : donnez le nom d'un fichier du dossier imports/.")
        if not default_storage.exists(IMPORT_FOLDER + text):
            raise PhotoError(
                f"Photo introuvable : « {text} » n'est pas dans le dossier {IMPORT_FOLDER} des "
                "photos. Déposez-y le fichier, ou donnez l'adresse web de la photo."
            )
        source = PhotoSource(text, is_url=False)
    if source.is_photo_of(product):
        return None  # imported from this very source before
    return source


# The resource


class ClassedDiff(resources.Diff):
    """The preview's changes marked with classes (static/css/admin.css), not the style
    attributes of diff-match-patch's own HTML, which the Content-Security-Policy refuses."""

    TAGS = {
        -1: ('<del class="import-diff-del">', "</del>"),
        1: ('<ins class="import-diff-ins">', "</ins>"),
    }

    def as_html(self) -> list[str]:
        data = []
        dmp = diff_match_patch()
        for before, after in zip(self.left, self.right, strict=False):
            if before != after and self.new:
                before = ""
            diff = dmp.diff_main(force_str(before), force_str(after))
            dmp.diff_cleanupSemantic(diff)
            parts = []
            for op, text in diff:
                opening, closing = self.TAGS.get(op, ("", ""))
                parts.append(opening + escape(text).replace("\n", "<br>") + closing)
            data.append(mark_safe("".join(parts)))  # every text above is escaped
        return data


class ProductResource(resources.ModelResource):
    name = fields.Field(
        attribute="name", column_name=COLUMNS["name"], widget=widgets.CharWidget(allow_blank=True)
    )
    slug = fields.Field(attribute="slug", column_name=COLUMNS["slug"])
    category = fields.Field(
        attribute="category", column_name=COLUMNS["category"], widget=CategoryWidget()
    )
    price = fields.Field(attribute="price", column_name=COLUMNS["price"], widget=EurosWidget())
    description = fields.Field(
        attribute="description",
        column_name=COLUMNS["description"],
        widget=widgets.CharWidget(allow_blank=True),
    )
    photo = fields.Field(column_name=COLUMNS["photo"], readonly=True)
    status = fields.Field(column_name=COLUMNS["status"], readonly=True)

    IMPORTED = ["name", "slug", "category", "price", "description"]

    class Meta:
        model = Product
        fields = ["name", "slug", "category", "price", "description", "photo", "status"]
        import_id_fields = ["slug"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        name = "Pièces"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.photos: list[PendingPhoto] = []
        self._sources: dict[int, PhotoSource | None] = {}

    def get_queryset(self):
        return Product.objects.with_status().select_related("category")

    def get_diff_class(self):
        return ClassedDiff

    # Export

    def dehydrate_photo(self, product: Product) -> str:
        return seo.absolute_url(product.image.url) if product.image else ""

    def dehydrate_status(self, product: Product) -> str:
        return product.status_label

    # Import

    def before_import(self, dataset: tablib.Dataset, **kwargs) -> None:
        """The address column may be missing or empty: made from the name, numbered within
        the file when two pieces share a name (the same file numbers them the same way)."""
        for column in (COLUMNS["name"], COLUMNS["price"]):
            if column not in dataset.headers:
                raise ValidationError(
                    f"La colonne « {column} » manque. Les colonnes sont : "
                    + ", ".join(f"« {c} »" for k, c in COLUMNS.items() if k != "status")
                    + "."
                )
        if COLUMNS["slug"] not in dataset.headers:
            dataset.append_col([""] * len(dataset), header=COLUMNS["slug"])
        names, slugs = dataset[COLUMNS["name"]], dataset[COLUMNS["slug"]]
        given = {str(s).strip() for s in slugs if str(s or "").strip()}
        taken: set[str] = set()
        derived = []
        for name, slug in zip(names, slugs, strict=True):
            slug = str(slug or "").strip()
            if not slug:
                base = slugify(str(name or ""))[:190] or "piece"
                slug, n = base, 2
                while slug in taken or slug in given:
                    slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            derived.append(slug)
        del dataset[COLUMNS["slug"]]
        dataset.append_col(derived, header=COLUMNS["slug"])

    def import_instance(self, instance: Product, row, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "price" not in errors and instance.price is not None and instance.price <= 0:
            errors["price"] = ["Le prix doit être supérieur à zéro."]
        try:
            self._sources[id(instance)] = photo_source(row.get(COLUMNS["photo"]), instance)
        except PhotoError as error:
            errors.setdefault("photo", []).append(str(error))
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Errors are shown under the spreadsheet's column names (« Prix (€) »), not the
        model's field names."""
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as error:
            raise ValidationError(
                {COLUMNS.get(key, key): messages for key, messages in error.message_dict.items()}
            ) from None

    # « Statut » is written by exports only: neither the import page nor its preview list it.
    def get_user_visible_fields(self) -> list:
        return [f for f in super().get_user_visible_fields() if f.column_name != COLUMNS["status"]]

    def get_import_fields(self) -> list:
        return [f for f in super().get_import_fields() if f.column_name != COLUMNS["status"]]

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        if self._sources.get(id(instance)) is not None:
            return False  # a new photo to add
        return super().skip_row(instance, original, row, import_validation_errors)

    def do_instance_save(self, instance: Product, is_create: bool) -> None:
        if is_create:
            instance.save(force_insert=True)
        else:
            # Only what the file may change: never the stock, a hold, or a sale made meanwhile.
            instance.save(update_fields=[*self.IMPORTED, "updated_at"])

    def after_save_instance(self, instance: Product, row, **kwargs) -> None:
        source = self._sources.pop(id(instance), None)
        if source is not None and not kwargs.get("dry_run"):
            self.photos.append(PendingPhoto(instance.pk, instance.name, source))

    def after_import(self, dataset, result, **kwargs) -> None:
        result.pending_photos = list(self.photos)


# Photos, once the import has committed


@dataclass(frozen=True)
class PendingPhoto:
    product_id: int
    name: str
    source: PhotoSource


@dataclass
class PhotosOutcome:
    added: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def add_photos(
    pending: list[PendingPhoto], *, budget_seconds: float | None = None
) -> PhotosOutcome:
    """Fetch and attach the photos of an import that has committed, until the budget is
    spent: each one is downloaded (or copied from imports/), checked as the admin checks an
    upload, and saved, which writes its sizes (products/photos.py). What is left is reported:
    importing the file again adds it."""
    outcome = PhotosOutcome()
    budget = PHOTOS_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    for photo in pending:
        if time.monotonic() >= deadline:
            outcome.left.append(photo.name)
            continue
        try:
            content = _fetch(photo.source, deadline=deadline + DOWNLOAD_TIMEOUT_SECONDS)
            content.name = photo.source.file_name
            _check_is_photo(content)
            # Only the photo is written (never the stock), and no lock is held while its
            # sizes are written on the save.
            product = Product.objects.get(pk=photo.product_id)
            product.image.save(photo.source.file_name, content, save=False)
            product.save(update_fields=["image", "updated_at"])
        except PhotoError as error:
            outcome.failed.append((photo.name, str(error)))
        except Product.DoesNotExist:
            continue
        else:
            outcome.added.append(photo.name)
    return outcome


def _fetch(source: PhotoSource, *, deadline: float) -> ContentFile:
    if not source.is_url:
        with default_storage.open(IMPORT_FOLDER + source.value, "rb") as stored:
            return ContentFile(stored.read(MAX_PHOTO_BYTES + 1)[: MAX_PHOTO_BYTES + 1])
    url = source.value
    for _ in range(MAX_REDIRECTS + 1):
        _check_public_host(url)
        request = urllib.request.Request(url, headers={"User-Agent": "Boutique (import)"})
        timeout = max(0.5, min(DOWNLOAD_TIMEOUT_SECONDS, deadline - time.monotonic()))
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                data = bytearray()
                while chunk := response.read(64 * 1024):
                    data += chunk
                    if len(data) > MAX_PHOTO_BYTES:
                        raise PhotoError(f"« {url} » : la photo dépasse 25 Mo.")
                    if time.monotonic() > deadline:
                        raise PhotoError(f"« {url} » : le téléchargement a pris trop de temps.")
                return ContentFile(bytes(data))
        except _Redirect as redirect:
            url = redirect.location
        except urllib.error.HTTPError as error:
            raise PhotoError(f"« {url} » : le site répond {error.code}.") from None
        except (urllib.error.URLError, OSError) as error:
            logger.warning("Photo import: %s unreachable: %s", url, error)
            raise PhotoError(f"« {url} » ne répond pas.") from None
    raise PhotoError(f"« {source.value} » renvoie vers trop d'autres adresses.")


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class _NoAutomaticRedirect(urllib.request.HTTPRedirectHandler):
    """Each redirect is followed by `_fetch`, which checks its host first."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise _Redirect(newurl)


_OPENER = urllib.request.build_opener(_NoAutomaticRedirect)


def _check_public_host(url: str) -> None:
    """Photos come from the web, never from the shop's own network (its database, its
    cloud's metadata service): an address on loopback or a private network is refused."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        raise PhotoError(f"« {url} » : ce site est introuvable.") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise PhotoError(f"« {url} » : adresse refusée (elle n'est pas sur internet).")


def _check_is_photo(content: ContentFile) -> None:
    """What the admin's form checks of an upload: a picture Pillow opens, in a format the
    photo field takes."""
    try:
        forms.ImageField().clean(content)
    except ValidationError:
        raise PhotoError("Ce fichier n'est pas une photo que la boutique sait lire.") from None
    content.seek(0)
