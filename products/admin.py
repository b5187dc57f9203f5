from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from import_export.forms import ExportForm

from products import imports, pages, stock
from products.legal import LEGAL_URLS
from products.models import Category, Product, ProductImage, StockStatus, default_condition
from products.templatetags.money import euros
from shop.admin_site import dated
from shop.euros import EurosField
from shop.words import guillemets


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "slug",
            "category",
            "condition",
            "price",
            "description",
            "image",
            "in_stock",
        ]
        # « 320,50 » or « 320.50 », shown back as « 320,50 € »; never a number input, which
        # drops a French comma (shop/euros.py).
        field_classes = {"price": EurosField}
        # The address of the piece's page, as the spreadsheets of pieces call it too.
        labels = {"slug": "Adresse web"}
        help_texts = {
            "price": "En euros : 320,50 ou 320.50.",
            "slug": "Tirée du nom : la page de la pièce est /produits/ suivi de cette adresse.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Shown with the shop's default chosen; a form sent without it keeps that default.
        self.fields["condition"].required = False

    def clean_condition(self) -> str:
        return self.cleaned_data["condition"] or default_condition()

    def clean_price(self) -> Decimal:
        # The database refuses it too (product_price_positive); this says so on the field.
        price = self.cleaned_data["price"]
        if price is not None and price <= 0:
            raise forms.ValidationError("Le prix doit être supérieur à zéro.")
        return price

    def clean_in_stock(self) -> bool:
        in_stock = self.cleaned_data["in_stock"]
        if in_stock and self.instance.pk and stock.piece_owners().owned([self.instance.pk]):
            raise forms.ValidationError(
                "Cette pièce appartient à une commande payée : remboursez la commande "
                "avant de la remettre en vente."
            )
        return in_stock


class StatusFilter(admin.SimpleListFilter):
    title = "statut"
    parameter_name = "statut"

    def lookups(self, request, model_admin):
        return StockStatus.choices

    def queryset(self, request, queryset):
        if self.value() in StockStatus.values:
            return queryset.filter(stock_status=self.value())
        return queryset


class OnThisShop:
    """« Voir sur le site » opens the page on this shop. Django's default goes through the
    sites framework, whose one site is named example.com: the owner landed there."""

    def view_on_site(self, obj) -> str:
        return obj.get_absolute_url()


@admin.register(Category)
class CategoryAdmin(OnThisShop, admin.ModelAdmin):
    # The add page's title (shop/admin_site.py, OwnerTitles): French needs the gender.
    add_title = "Nouvelle catégorie"
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


class ProductImageInline(admin.TabularInline):
    """More photos of the piece, shown after the main one in the order of `position`."""

    model = ProductImage
    # Under the photos: « Ajouter une photo », not Django's « Ajouter un objet Photo
    # supplémentaire » (shop/admin_site.py).
    add_label = "Ajouter une photo"
    fields = ["preview", "image", "alt", "position"]
    readonly_fields = ["preview"]
    ordering = ["position", "id"]
    extra = 1

    @admin.display(description="aperçu")
    def preview(self, obj: ProductImage) -> str:
        if not obj.pk or not obj.image:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="48" height="48" class="admin-thumbnail">',
            obj.card_small.url,
        )


@admin.register(Product)
class ProductAdmin(OnThisShop, ImportExportMixin, admin.ModelAdmin):
    form = ProductAdminForm
    add_title = "Nouvelle pièce"
    # « Importer » / « Exporter » on the list: a spreadsheet of pieces (products/imports.py).
    resource_classes = [imports.ProductResource]
    formats = imports.FORMATS
    export_form_class = ExportForm
    inlines = [ProductImageInline]
    list_display = [
        "thumbnail",
        "name",
        "price_display",
        "status_display",
        "in_stock",
        "created_at",
        "category",
    ]
    list_display_links = ["thumbnail", "name"]
    list_filter = [
        StatusFilter,
        "category",
        "condition",
        "in_stock",
        ("created_at", dated("date d'ajout")),
    ]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["held_by", "held_until", "created_at", "updated_at", "preview"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "condition", "price", "description"]}),
        ("Photo principale", {"fields": ["image", "preview"]}),
        ("Stock", {"fields": ["in_stock", "held_by", "held_until"]}),
        ("Historique", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    actions = ["put_back_on_sale", "withdraw_from_sale"]
    list_per_page = 50
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).with_status().select_related("category")

    def save_model(self, request: HttpRequest, obj: Product, form, change: bool) -> None:
        """Write only the fields the owner changed.

        The form holds a copy of the piece read at the start of the request; a
        sale or a hold recorded meanwhile by the webhook or a checkout must not
        be overwritten by that copy. Putting a piece back in stock re-checks,
        under the row lock, that no paid order owns it.
        """
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = [name for name in form.changed_data if name in ProductAdminForm.Meta.fields]
        with transaction.atomic():
            if "in_stock" in fields:
                # Stock changes go through the stock service: it locks the row and,
                # for a piece put back, re-checks that no paid order owns it.
                fields.remove("in_stock")
                if not obj.in_stock:
                    stock.withdraw_from_sale([obj.pk])
                elif stock.piece_owners().put_back_on_sale(product_ids=[obj.pk])[1]:
                    self.message_user(
                        request,
                        f"La pièce {guillemets(obj.name)} vient d'être vendue à une "
                        "commande payée : elle reste vendue.",
                        messages.ERROR,
                    )
            obj.save(update_fields=[*fields, "updated_at"])

    def process_result(self, result, request: HttpRequest):
        """After a confirmed import has committed: its photos, within the request's budget."""
        outcome = imports.add_photos(getattr(result, "pending_photos", []))
        response = super().process_result(result, request)
        if outcome.added:
            self.message_user(
                request, f"{len(outcome.added)} photo(s) ajoutée(s).", messages.SUCCESS
            )
        for name, reason in outcome.failed[:10]:
            self.message_user(
                request, f"Photo non ajoutée pour {guillemets(name)} : {reason}", messages.WARNING
            )
        if len(outcome.failed) > 10:
            self.message_user(
                request,
                f"… et {len(outcome.failed) - 10} autre(s) photo(s) non ajoutée(s).",
                messages.WARNING,
            )
        if outcome.left:
            self.message_user(
                request,
                f"{len(outcome.left)} photo(s) restent à ajouter : importez à nouveau le même "
                "fichier pour les ajouter (les pièces sont mises à jour, jamais dupliquées, et "
                "les photos déjà là ne sont pas téléchargées à nouveau).",
                messages.WARNING,
            )
        return response

    @admin.display(description="photo")
    def thumbnail(self, obj: Product) -> str:
        if not obj.image:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="48" height="48" class="admin-thumbnail">',
            obj.card_small.url,
        )

    @admin.display(description="aperçu")
    def preview(self, obj: Product) -> str:
        # The shop's own rendition, not the upload: what shoppers see (turned upright), and
        # shown by every browser (an iPhone's HEIC original is not).
        if not obj.image:
            return "—"
        return format_html('<img src="{}" alt="" class="admin-preview">', obj.photo_medium.url)

    @admin.display(description="prix", ordering="price")
    def price_display(self, obj: Product) -> str:
        return euros(obj.price)

    @admin.display(description="statut", ordering="stock_status")
    def status_display(self, obj: Product) -> str:
        return obj.status_label

    @admin.action(description="Remettre en vente les pièces sélectionnées")
    def put_back_on_sale(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        done, refused = stock.piece_owners().put_back_on_sale(
            product_ids=queryset.values_list("pk", flat=True)
        )
        if done:
            self.message_user(
                request, f"{len(done)} pièce(s) remise(s) en vente.", messages.SUCCESS
            )
        if refused:
            names = ", ".join(p.name for p in refused)
            self.message_user(
                request,
                f"Refusé pour {names} : ces pièces appartiennent à une commande payée.",
                messages.ERROR,
            )

    @admin.action(description="Marquer comme vendues hors boutique")
    def withdraw_from_sale(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = stock.withdraw_from_sale(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} pièce(s) retirée(s) de la vente.", messages.SUCCESS)


# The owner's pages (django.contrib.flatpages, products/pages.py), at /pages/<slug>/. The shop
# is one site: the owner never picks one, and the sites framework stays out of the admin.
admin.site.unregister(FlatPage)
admin.site.unregister(Site)

MARKUP_HELP = (
    "Du texte simple : une ligne vide entre deux paragraphes ; « ## » en début de ligne pour "
    "un intertitre ; « - » en début de ligne pour une liste ; **mots en gras** ; "
    "[texte du lien](/pages/cgv/) pour un lien. Remplacez chaque passage entre crochets, "
    "comme [SIRET], par votre information."
)


class PageForm(forms.ModelForm):
    """Title, address and text. The address is derived from the title as the owner types it
    (admin's prepopulate script) and shown in full; a legal page's cannot change."""

    slug = forms.SlugField(
        label="Adresse",
        max_length=90,
        help_text="Tirée du titre : la page « À propos » sera en ligne à l'adresse "
        "/pages/a-propos/ (lettres, chiffres et tirets). La changer plus tard casse les liens "
        "déjà donnés.",
    )

    class Meta:
        model = FlatPage
        fields = ["title", "slug", "content"]
        labels = {"title": "Titre", "content": "Texte"}
        help_texts = {"content": MARKUP_HELP}
        widgets = {"content": forms.Textarea(attrs={"rows": 28, "class": "page-text"})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["slug"].initial = pages.slug_of(self.instance)
        if self.instance.pk and pages.is_legal(self.instance):
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = (
                "Adresse fixe : le pied de page de la boutique et la case des conditions "
                "générales de vente renvoient à cette page."
            )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        url = pages.url_for(slug)
        others = FlatPage.objects.filter(url=url).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                f"Une autre page est déjà à l'adresse {url} : choisissez une autre adresse."
            )
        if url in LEGAL_URLS and url != self.instance.url:
            raise forms.ValidationError("Cette adresse est réservée à une page légale.")
        return slug

    def save(self, commit: bool = True) -> FlatPage:
        self.instance.url = pages.url_for(self.cleaned_data["slug"])
        return super().save(commit)


@admin.register(FlatPage)
class PageAdmin(OnThisShop, admin.ModelAdmin):
    form = PageForm
    # Django's model says « pages statiques »: the owner's word is « pages ».
    list_title = "Pages"
    add_title = "Nouvelle page"
    fields = ["title", "slug", "content"]
    list_display = ["title", "address", "kind", "to_complete"]
    search_fields = ["title", "content"]
    ordering = ["url"]

    def get_prepopulated_fields(self, request: HttpRequest, obj=None) -> dict:
        # Only while adding: a page's address does not follow later changes of its title.
        return {"slug": ["title"]} if obj is None else {}

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and pages.is_legal(obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="adresse", ordering="url")
    def address(self, obj: FlatPage) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.url)

    @admin.display(description="type")
    def kind(self, obj: FlatPage) -> str:
        return "Page légale, adresse fixe" if pages.is_legal(obj) else "Page"

    @admin.display(description="à compléter")
    def to_complete(self, obj: FlatPage) -> str:
        count = len(pages.placeholders_in(obj.content))
        return f"{count} passage{'s' if count > 1 else ''} entre crochets" if count else "—"

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        if request.method == "GET":
            page = self.get_object(request, unquote(object_id))
            if page is not None:
                self._warn_about_placeholders(request, page)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: FlatPage, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            self.message_user(
                request,
                format_html(
                    '« {} » est en ligne à l\'adresse <a href="{}">{}</a>.',
                    obj.title,
                    obj.get_absolute_url(),
                    obj.url,
                ),
                messages.SUCCESS,
            )
        self._warn_about_placeholders(request, obj)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.sites.add(Site.objects.get_current())

    def _warn_about_placeholders(self, request: HttpRequest, page: FlatPage) -> None:
        found = pages.placeholders_in(page.content)
        if not found:
            return
        shown = ", ".join(found[:6]) + (" …" if len(found) > 6 else ".")
        self.message_user(
            request,
            f"« {page.title} » est en ligne mais contient encore {len(found)} passage"
            f"{'s' if len(found) > 1 else ''} entre crochets à remplacer par vos "
            f"informations : {shown}",
            messages.WARNING,
        )
