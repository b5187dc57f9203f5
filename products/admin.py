from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.flatpages.admin import FlatPageAdmin
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from products import stock
from products.models import Category, Product, ProductImage, StockStatus, default_condition
from products.templatetags.money import euros


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
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


class ProductImageInline(admin.TabularInline):
    """More photos of the piece, shown after the main one in the order of `position`."""

    model = ProductImage
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
class ProductAdmin(OnThisShop, admin.ModelAdmin):
    form = ProductAdminForm
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
    list_filter = [StatusFilter, "category", "condition", "in_stock", "created_at"]
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
                        f"« {obj.name} » vient d'être vendue à une commande payée : "
                        "elle reste vendue.",
                        messages.ERROR,
                    )
            obj.save(update_fields=[*fields, "updated_at"])

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
        if not obj.image:
            return "—"
        return format_html('<img src="{}" alt="" class="admin-preview">', obj.image.url)

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


# The legal pages (django.contrib.flatpages): Django's own admin, with the same link. The shop
# is one site: the owner never picks one, and the sites framework stays out of the admin.
admin.site.unregister(FlatPage)
admin.site.unregister(Site)


@admin.register(FlatPage)
class LegalPageAdmin(OnThisShop, FlatPageAdmin):
    fieldsets = [
        (None, {"fields": ["url", "title", "content"]}),
        (
            "Options avancées",
            {"classes": ["collapse"], "fields": ["registration_required", "template_name"]},
        ),
    ]
    list_filter = ["registration_required"]

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.sites.add(Site.objects.get_current())
