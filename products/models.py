from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Now
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

from products.photos import CARD_SIZES, PHOTO_SIZES, card, check_photo_size, photo


class Category(models.Model):
    """A shelf of the shop (« Luminaires », « Céramique »…), in the owner's order."""

    name = models.CharField("nom", max_length=100)
    slug = models.SlugField("adresse web", max_length=100, unique=True)
    description = models.TextField("description", blank=True)
    position = models.PositiveIntegerField("position", default=0)
    # The sitemap's lastmod of the pages that show the category (its name is in their
    # navigation and breadcrumbs).
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "catégorie"
        verbose_name_plural = "catégories"
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:category", kwargs={"slug": self.slug})


class StockStatus(models.TextChoices):
    AVAILABLE = "available", "Disponible"
    RESERVED = "reserved", "Réservé"
    SOLD = "sold", "Vendu"


# Sent after pieces are written in bulk (`update`, `bulk_create`, and `bulk_update`, which
# goes through `update`), with the database alias as `using`: saves and deletes send
# `post_save` and `post_delete`. products/apps.py connects all three to the stock version.
pieces_written = Signal()


class ProductQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        rows = super().update(**kwargs)
        pieces_written.send(sender=self.model, using=self.db)
        return rows

    def bulk_create(self, objs, *args, **kwargs) -> list:
        created = super().bulk_create(objs, *args, **kwargs)
        pieces_written.send(sender=self.model, using=self.db)
        return created

    def with_status(self) -> "ProductQuerySet":
        """Annotate `stock_status`, computed on the database's clock."""
        return self.annotate(
            stock_status=Case(
                When(in_stock=False, then=Value(StockStatus.SOLD)),
                When(held_until__gt=Now(), then=Value(StockStatus.RESERVED)),
                default=Value(StockStatus.AVAILABLE),
                output_field=models.CharField(),
            )
        )

    def available(self) -> "ProductQuerySet":
        return self.filter(Q(held_until__isnull=True) | Q(held_until__lte=Now()), in_stock=True)


class Condition(models.TextChoices):
    """What state a piece is sold in (SPEC §5): shown to search engines and product feeds,
    where neuf is new and occasion and vintage are used."""

    NEW = "neuf", "Neuf"
    USED = "occasion", "Occasion"
    VINTAGE = "vintage", "Vintage"


def default_condition() -> str:
    """PRODUCT_CONDITION_DEFAULT: a piece created without a condition takes the shop's."""
    return settings.PRODUCT_CONDITION_DEFAULT


class Product(models.Model):
    """A one-of-a-kind piece: it exists once, so it is sold at most once."""

    name = models.CharField("nom", max_length=200)
    slug = models.SlugField("adresse web", max_length=200, unique=True)
    description = models.TextField("description", blank=True)
    price = models.DecimalField("prix (€)", max_digits=10, decimal_places=2)
    image = models.ImageField(
        "photo", upload_to="products/", blank=True, validators=[check_photo_size]
    )
    in_stock = models.BooleanField("en stock", default=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    held_by = models.ForeignKey(
        "payments.Order",
        verbose_name="réservé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_products",
    )
    held_until = models.DateTimeField("réservé jusqu'à", null=True, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name="catégorie",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
    )
    condition = models.CharField(
        "état",
        max_length=10,
        choices=Condition.choices,
        default=default_condition,
        help_text="« Neuf » : une création jamais utilisée. « Occasion » ou « Vintage » : une "
        "pièce qui a déjà servi. Annoncé tel quel aux moteurs de recherche.",
    )

    card_small = card(CARD_SIZES[0])
    card_large = card(CARD_SIZES[1])
    photo_medium = photo(PHOTO_SIZES[0])
    photo_large = photo(PHOTO_SIZES[1])

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce"
        verbose_name_plural = "pièces"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
        ]
        indexes = [
            # The catalogue's order: a page reads 12 rows instead of sorting the table.
            models.Index(fields=["-created_at", "-id"], name="product_newest_first"),
            # The next hold to lapse (products/stock_version.py): a few rows, not the table.
            models.Index(
                fields=["held_until"],
                condition=Q(held_until__isnull=False),
                name="product_held_until",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:detail", kwargs={"slug": self.slug})

    @property
    def status(self) -> str:
        """`sold`, `reserved` or `available`: the same for every viewer.

        Querysets built with `with_status()` carry the value computed by the
        database; otherwise it is computed here from the loaded fields.
        """
        annotated = getattr(self, "stock_status", None)
        if annotated is not None:
            return annotated
        if not self.in_stock:
            return StockStatus.SOLD
        if self.held_until is not None and self.held_until > timezone.now():
            return StockStatus.RESERVED
        return StockStatus.AVAILABLE

    @property
    def status_label(self) -> str:
        return StockStatus(self.status).label


class ProductImage(models.Model):
    """One more photo of a piece, after its main photo (`Product.image`)."""

    product = models.ForeignKey(
        Product, verbose_name="pièce", on_delete=models.CASCADE, related_name="images"
    )
    image = models.ImageField("photo", upload_to="products/", validators=[check_photo_size])
    alt = models.CharField(
        "texte alternatif",
        max_length=200,
        blank=True,
        help_text="Ce que montre la photo, pour qui ne la voit pas (« Le dos du fauteuil »).",
    )
    position = models.PositiveIntegerField("position", default=0)

    card_small = card(CARD_SIZES[0])
    card_large = card(CARD_SIZES[1])
    photo_medium = photo(PHOTO_SIZES[0])
    photo_large = photo(PHOTO_SIZES[1])

    class Meta:
        verbose_name = "photo"
        verbose_name_plural = "autres photos"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt or f"Photo de {self.product}"
