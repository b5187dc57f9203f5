"""The orders: the list the owner works from (to ship first), an order's page with its
history, and the actions (refund, retry Stripe's calls). Pages of their own (shipment,
packing slip, dashboard) are payments/admin/views.py."""

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payments import limits, services
from payments.admin import views
from payments.admin.common import ServiceWrittenAdmin, stripe_link, when
from payments.admin.emails import OrderEmailInline
from payments.admin.filters import (
    ConflictFilter,
    ShipmentFilter,
    StripeCallPendingFilter,
    WithdrawalFilter,
)
from payments.admin.withdrawals import WITHDRAWAL_FIELDS, WithdrawalAdminMixin
from payments.models import Order, OrderItem
from payments.selectors import TimelineEntry, order_timeline
from products.templatetags.money import euros


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = ["piece", "price_display", "sold"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    # Lines are part of the order: whoever may see the order sees them, nobody edits them.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("payments.view_order") or request.user.has_perm(
            "payments.change_order"
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="pièce")
    def piece(self, item: OrderItem) -> str:
        url = reverse("admin:products_product_change", args=[item.product_id])
        return format_html('<a href="{}">{}</a>', url, item.name)

    @admin.display(description="prix payé")
    def price_display(self, item: OrderItem) -> str:
        return euros(item.price)


@admin.register(Order)
class OrderAdmin(WithdrawalAdminMixin, ServiceWrittenAdmin):
    list_display = [
        "reference",
        "status_badge",
        # Before the dates: on a laptop's width the last columns scroll out of sight.
        "shipment_column",
        "withdrawal_column",
        "total_display",
        "customer_email",
        "created_at",
        "paid_at",
        "refund_reason",
        "stripe_call_pending",
        "client_open_checkouts",
    ]
    list_filter = [
        ShipmentFilter,
        WithdrawalFilter,
        "status",
        ConflictFilter,
        "refund_reason",
        StripeCallPendingFilter,
        "paid_at",
        "refunded_at",
        "created_at",
    ]
    search_fields = [
        "reference",
        "customer_email",
        "=stripe_session_id",
        "=stripe_payment_intent_id",
    ]
    date_hierarchy = "created_at"
    list_per_page = 50
    inlines = [OrderItemInline, OrderEmailInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "status_badge",
                    "items_total_display",
                    "shipping_cost_display",
                    "total_display",
                    "received_display",
                    "created_at",
                    "paid_at",
                ]
            },
        ),
        ("Client", {"fields": ["customer_email", "shipping_display"]}),
        (
            "Expédition",
            {
                "fields": [
                    "shipment_buttons",
                    "shipped_at",
                    "carrier",
                    "tracking_number",
                    "tracking_url",
                ]
            },
        ),
        (
            "Stripe",
            {
                "fields": [
                    "session_link",
                    "checkout_expires_at",
                    "payment_intent_link",
                    "refund_reason",
                    "refund_link",
                    "refunded_at",
                    "stripe_call_pending",
                    "last_error",
                ]
            },
        ),
        ("Historique", {"fields": ["timeline"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets) + WITHDRAWAL_FIELDS
    actions = ["refund_and_put_back_on_sale", "refund_only", "retry_stripe_calls"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change permission allows the actions (on the list); a single order is only
        # viewed, never saved from the form (see the module's docstring).
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # Counted in the list's own query (a correlated subquery), not one query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(client_open_checkouts=limits.open_checkouts_of_same_client())
        )

    @admin.display(description="paiements ouverts du client")
    def client_open_checkouts(self, order: Order) -> str:
        """For an open checkout: how many its client address has open now, of the limit."""
        count = getattr(order, "client_open_checkouts", None)
        if order.status not in Order.OPEN_STATUSES or not order.client_hash or not count:
            return "—"
        limit = settings.CHECKOUT_LIMIT_PER_CLIENT
        if limit > 0 and count >= limit:
            return format_html('<span class="client-limit-reached">{} / {}</span>', count, limit)
        return f"{count} / {limit}" if limit > 0 else str(count)

    @admin.display(description="statut", ordering="status")
    def status_badge(self, order: Order) -> str:
        return format_html(
            '<span class="order-status order-status--{}">{}</span>',
            order.status,
            order.get_status_display(),
        )

    @admin.display(description="total", ordering="total")
    def total_display(self, order: Order) -> str:
        return euros(order.total)

    @admin.display(description="montant reçu")
    def received_display(self, order: Order) -> str:
        if order.amount_received is None:
            return "—"
        if order.currency_received == order.currency:
            return euros(order.amount_received)
        return f"{order.amount_received} {order.currency_received.upper()}"

    @admin.display(description="adresse de livraison")
    def shipping_display(self, order: Order) -> str:
        if not order.shipping_address:
            return "—"
        return render_to_string(
            "payments/_shipping_address.html",
            {"shipping": order.shipping_address, "untitled": True},
        )

    @admin.display(description="pièces")
    def items_total_display(self, order: Order) -> str:
        return euros(order.items_total)

    @admin.display(description="livraison")
    def shipping_cost_display(self, order: Order) -> str:
        return euros(order.shipping_cost) if order.shipping_cost else "offerte"

    @admin.display(description="expédition", ordering="shipped_at")
    def shipment_column(self, order: Order) -> str:
        if order.shipped_at:
            return format_html(
                '<span class="shipment shipment--done">Expédiée le {}</span>',
                when(order.shipped_at)[:10],
            )
        if order.status != Order.Status.PAID:
            return "—"
        return format_html(
            '<a class="shipment shipment--todo" href="{}">À expédier</a>',
            reverse("admin:payments_order_ship", args=[order.pk]),
        )

    @admin.display(description="actions")
    def shipment_buttons(self, order: Order) -> str:
        if order.status != Order.Status.PAID:
            return "Seule une commande payée s'expédie."
        label = "Modifier le suivi" if order.shipped_at else "Enregistrer l'expédition"
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">Bordereau de '
            "préparation</a>",
            reverse("admin:payments_order_ship", args=[order.pk]),
            label,
            reverse("admin:payments_order_packing_slip", args=[order.pk]),
        )

    @admin.display(description="Checkout Session")
    def session_link(self, order: Order) -> str:
        return stripe_link("checkout/sessions", order.stripe_session_id or "")

    @admin.display(description="PaymentIntent")
    def payment_intent_link(self, order: Order) -> str:
        return stripe_link("payments", order.stripe_payment_intent_id)

    @admin.display(description="remboursement Stripe")
    def refund_link(self, order: Order) -> str:
        return stripe_link("refunds", order.stripe_refund_id)

    @admin.display(description="Stripe à relancer")
    def stripe_call_pending(self, order: Order) -> str:
        pending = []
        if order.refund_pending:
            pending.append("remboursement")
        if order.session_expiry_pending:
            pending.append("expiration de la session")
        if not pending:
            return "—"
        return format_html('<span class="stripe-pending">⚠ {}</span>', ", ".join(pending))

    @admin.display(description="chronologie")
    def timeline(self, order: Order) -> SafeString:
        rows = format_html_join(
            "",
            '<tr><td class="nowrap">{}</td><td>{}</td><td>{}</td></tr>',
            (_timeline_cells(entry) for entry in order_timeline(order)),
        )
        return format_html(
            '<table class="order-timeline"><thead><tr><th>quand</th><th>quoi</th>'
            "<th>résultat</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def get_ordering(self, request: HttpRequest) -> list[str]:
        """Orders to ship: the oldest payment first, the order they should leave in."""
        params = dict(request.GET.lists())
        shown = ShipmentFilter(request, params, Order, self)
        if shown.value() == ShipmentFilter.TO_SHIP:
            return ["paid_at", "pk"]
        # Withdrawals to handle: the nearest refund deadline first.
        if WithdrawalFilter(request, params, Order, self).value() == WithdrawalFilter.TO_HANDLE:
            return ["withdrawn_at", "pk"]
        return super().get_ordering(request)

    # --- Pages of their own (payments/admin/views.py), behind the admin's login.

    def get_urls(self):
        def page(view):
            return self.admin_site.admin_view(partial(view, model_admin=self))

        own = [
            path(
                "<int:object_id>/expedition/",
                page(views.order_ship),
                name="payments_order_ship",
            ),
            path(
                "<int:object_id>/bordereau/",
                page(views.order_packing_slip),
                name="payments_order_packing_slip",
            ),
            path("tableau-de-bord/", page(views.dashboard), name="payments_order_dashboard"),
        ]
        return own + super().get_urls()

    # --- Actions: each calls a service, then says what came of it.

    @admin.action(
        description="Rembourser (et remettre les pièces en vente)", permissions=["change"]
    )
    def refund_and_put_back_on_sale(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._refund_orders(request, queryset, put_back_on_sale=True)

    @admin.action(description="Rembourser (sans remettre en vente)", permissions=["change"])
    def refund_only(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._refund_orders(request, queryset, put_back_on_sale=False)

    def _refund_orders(
        self, request: HttpRequest, queryset: QuerySet[Order], *, put_back_on_sale: bool
    ) -> None:
        refunded, skipped, pending = services.refund_paid_orders(
            orders=queryset, put_back_on_sale=put_back_on_sale
        )
        if refunded:
            back = " et pièces remises en vente" if put_back_on_sale else ""
            self.message_user(
                request,
                f"{len(refunded)} commande(s) remboursée(s){back} : {', '.join(refunded)}.",
                messages.SUCCESS,
            )
        if pending:
            self.message_user(
                request,
                "Stripe n'a pas reçu le remboursement de "
                f"{', '.join(pending)} : il sera relancé (action « Relancer les appels Stripe "
                "en attente » ou commande reconcile).",
                messages.WARNING,
            )
        if skipped:
            self.message_user(
                request,
                f"Ignorée(s), car non payée(s) : {', '.join(skipped)}. "
                "Seule une commande payée peut être remboursée.",
                messages.WARNING,
            )

    @admin.action(description="Relancer les appels Stripe en attente", permissions=["change"])
    def retry_stripe_calls(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done, failed = services.retry_pending_stripe_calls(orders=queryset)
        if not done and not failed:
            self.message_user(
                request, "Aucun appel Stripe en attente pour ces commandes.", messages.INFO
            )
        if done:
            self.message_user(
                request, f"Appels Stripe passés pour : {', '.join(done)}.", messages.SUCCESS
            )
        if failed:
            self.message_user(
                request,
                f"Stripe ne répond toujours pas pour : {', '.join(failed)}. "
                "Réessayez plus tard ; l'erreur est affichée sur la commande.",
                messages.ERROR,
            )


def _timeline_cells(entry: TimelineEntry) -> tuple[str, str, str]:
    """When, what (linked to the event's page, if any), and what came of it."""
    what = entry.label
    if entry.event_pk is not None:
        url = reverse("admin:payments_stripeevent_change", args=[entry.event_pk])
        what = format_html('<a href="{}">{}</a>', url, entry.label)
    return when(entry.at), what, entry.detail or ""
