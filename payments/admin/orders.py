"""The orders: the list the owner works from (to ship first), an order's page with its
history, and the actions (refund, mark delivered, retry Stripe's calls; the refund's leads
to its confirmation page: payments/admin/documents.py). Pages of their own
(shipment, delivery, packing slip, dashboard) are payments/admin/views.py.

The order's page reads as the owner works: the pieces and where they go, the shipment, the
money, the e-mails, the history, and Stripe's details last, folded. Each part is a fieldset
of `FIELDSETS`; `get_fieldsets` leaves out what does not apply to the order yet (no tracking
before the shipment, no refund lines before a refund).
"""

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payments import limits, services
from payments.admin import views
from payments.admin.common import ServiceWrittenAdmin, stripe_link, table, when
from payments.admin.documents import OrderRefundsMixin
from payments.admin.emails import order_emails
from payments.admin.filters import (
    ConflictFilter,
    ShipmentFilter,
    StripeCallPendingFilter,
    WithdrawalFilter,
)
from payments.admin.withdrawals import WITHDRAWAL_FIELDS, WithdrawalAdminMixin
from payments.models import Order
from payments.selectors import TimelineEntry, order_timeline
from products.templatetags.money import euros
from shop.admin_site import dated

# The order's page, part by part, in the order the owner works (see the module's docstring).
SUMMARY = (None, {"fields": ["status_badge", "paid_at", "customer_email"]})
PARCEL = ("Pièces et adresse de livraison", {"fields": ["pieces", "shipping_display"]})
SHIPMENT = (
    "Expédition",
    {
        "fields": [
            "shipment_buttons",
            "shipped_at",
            "carrier_display",
            "tracking_number",
            "tracking_link",
            "delivered_at",
        ]
    },
)
MONEY = (
    "Montants",
    {
        "fields": [
            "items_total_display",
            "shipping_cost_display",
            "total_display",
            "received_display",
            "refund_reason",
            "refunded_at",
            "stripe_call_pending",
        ]
    },
)
EMAILS = ("E-mails", {"fields": ["emails"]})
HISTORY = ("Chronologie", {"fields": ["timeline"]})
STRIPE = (
    "Détails techniques (Stripe)",
    {
        "classes": ["collapse"],
        "fields": [
            "reference",
            "created_at",
            "session_link",
            "checkout_expires_at",
            "payment_intent_link",
            "refund_link",
            "last_error",
        ],
    },
)
FIELDSETS = [
    SUMMARY,
    PARCEL,
    SHIPMENT,
    MONEY,
    OrderRefundsMixin.REFUND_FIELDSET,  # payments/admin/documents.py
    EMAILS,
    HISTORY,
    STRIPE,
]
# Shown only once they say something: the tracking after the shipment, the refund's lines
# after a refund, the pending Stripe call while there is one.
AFTER_SHIPMENT = {
    "shipped_at",
    "carrier_display",
    "tracking_number",
    "tracking_link",
    "delivered_at",
}
AFTER_REFUND = {"refund_reason", "refunded_at"}


@admin.register(Order)
class OrderAdmin(OrderRefundsMixin, WithdrawalAdminMixin, ServiceWrittenAdmin):
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
        ("paid_at", dated("date de paiement")),
        ("refunded_at", dated("date de remboursement")),
        ("created_at", dated("date de commande")),
    ]
    search_fields = [
        "reference",
        "customer_email",
        "=stripe_session_id",
        "=stripe_payment_intent_id",
    ]
    date_hierarchy = "created_at"
    list_per_page = 50
    fieldsets = FIELDSETS
    readonly_fields = flatten_fieldsets(FIELDSETS) + WITHDRAWAL_FIELDS
    actions = ["refund", "mark_delivered", "retry_stripe_calls"]

    def get_list_title(self, request: HttpRequest) -> str:
        shown = ShipmentFilter(request, dict(request.GET.lists()), Order, self).value()
        if shown == ShipmentFilter.TO_SHIP:
            return "Commandes à expédier"
        if shown == ShipmentFilter.SHIPPED:
            return "Commandes expédiées"
        params = dict(request.GET.lists())
        if WithdrawalFilter(request, params, Order, self).value() == WithdrawalFilter.TO_HANDLE:
            return "Rétractations à traiter"
        return "Commandes"

    def get_change_title(self, obj: Order) -> str:
        return f"Commande {obj.reference}"

    def get_fieldsets(self, request: HttpRequest, obj: Order | None = None) -> list:
        if obj is None:
            return super().get_fieldsets(request, obj)
        hidden = set()
        if obj.shipped_at is None:
            hidden |= AFTER_SHIPMENT
        if not (obj.refund_reason or obj.refunded_at):
            hidden |= AFTER_REFUND
        if not (obj.refund_pending or obj.session_expiry_pending):
            hidden.add("stripe_call_pending")
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in self.fieldsets
        ]
        return self.with_withdrawal(fieldsets, obj)

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

    @admin.display(description="prix des pièces")
    def items_total_display(self, order: Order) -> str:
        return euros(order.items_total)

    @admin.display(description="livraison")
    def shipping_cost_display(self, order: Order) -> str:
        return euros(order.shipping_cost) if order.shipping_cost else "offerte"

    @admin.display(description="pièces")
    def pieces(self, order: Order) -> SafeString:
        """The pieces to pack, each linked to its page in the catalogue, with its price."""
        # A paid order's piece can go back on sale too, with a partial refund.
        put_back = order.status in (Order.Status.PAID, Order.Status.REFUNDED)
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a>{}</td><td class="price">{}</td></tr>',
            (
                (
                    reverse("admin:products_product_change", args=[item.product_id]),
                    item.name,
                    " (remise en vente)" if put_back and not item.sold else "",
                    euros(item.price),
                )
                for item in order.items.all()
            ),
        )
        return table("order-pieces", ("Pièce", "Prix payé"), rows)

    @admin.display(description="e-mails")
    def emails(self, order: Order) -> SafeString:
        return order_emails(order)

    @admin.display(description="expédition", ordering="shipped_at")
    def shipment_column(self, order: Order) -> str:
        if order.delivered_at:
            return format_html(
                '<span class="shipment shipment--done">Livrée le {}</span>',
                when(order.delivered_at)[:10],
            )
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

    @admin.display(description="à faire")
    def shipment_buttons(self, order: Order) -> str:
        """What the owner can do next with the parcel; nothing for an order that must not
        leave (its packing slip, if she opens it from an e-mail, is stamped so)."""
        if order.status == Order.Status.REFUNDED:
            return "Remboursée : ne pas expédier."
        if order.status != Order.Status.PAID:
            return f"{order.get_status_display()} : rien à expédier."
        ship = reverse("admin:payments_order_ship", args=[order.pk])
        slip = reverse("admin:payments_order_packing_slip", args=[order.pk])
        if order.shipped_at is None:
            return format_html(
                '<div class="order-actions"><a class="button" href="{}">Enregistrer '
                'l\'expédition</a> <a class="button" href="{}">Bordereau de préparation</a></div>',
                ship,
                slip,
            )
        delivered = (
            format_html(
                '<span class="shipment shipment--done">Livrée le {}</span>',
                when(order.delivered_at)[:10],
            )
            if order.delivered_at
            else format_html(
                '<a class="button" href="{}">Marquer livrée</a>',
                reverse("admin:payments_order_delivery", args=[order.pk]),
            )
        )
        return format_html(
            '<div class="order-actions">{} <a class="button" href="{}">Modifier le suivi</a> '
            '<a class="button" href="{}">Bordereau de préparation</a></div>',
            delivered,
            ship,
            slip,
        )

    @admin.display(description="transporteur")
    def carrier_display(self, order: Order) -> str:
        return order.carrier_name or "—"

    @admin.display(description="suivi du colis")
    def tracking_link(self, order: Order) -> str:
        if not order.tracking_url:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">Suivre le colis</a>',
            order.tracking_url,
        )

    @admin.display(description="session de paiement")
    def session_link(self, order: Order) -> str:
        return stripe_link("checkout/sessions", order.stripe_session_id or "")

    @admin.display(description="paiement")
    def payment_intent_link(self, order: Order) -> str:
        return stripe_link("payments", order.stripe_payment_intent_id)

    @admin.display(description="remboursement")
    def refund_link(self, order: Order) -> str:
        return stripe_link("refunds", order.stripe_refund_id)

    @admin.display(description="Stripe à relancer")
    def stripe_call_pending(self, order: Order) -> str:
        pending = []
        if order.refund_pending:
            pending.append("remboursement")
        if order.session_expiry_pending:
            pending.append("fermeture de la page de paiement")
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
        return table("order-timeline", ("Quand", "Quoi", "Résultat"), rows)

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
                "<int:object_id>/livraison/",
                page(views.order_delivery),
                name="payments_order_delivery",
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
        description="Marquer livrées (le client a reçu son colis)", permissions=["change"]
    )
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]):
        """First a confirmation page (the withdrawal period runs from today), as Django's
        own deletion asks; then each order is marked, or its refusal said."""
        if "confirmer" not in request.POST:
            return views.delivery_confirmation(
                request,
                queryset,
                model_admin=self,
                action_url=request.get_full_path(),
                back_url=request.get_full_path(),
                hidden={
                    "action": "mark_delivered",
                    ACTION_CHECKBOX_NAME: [str(pk) for pk in queryset.values_list("pk", flat=True)],
                },
            )
        delivered, refused = services.mark_orders_delivered(orders=queryset)
        if delivered:
            self.message_user(
                request,
                f"{len(delivered)} commande(s) marquée(s) livrée(s) aujourd'hui : "
                f"{', '.join(delivered)}.",
                messages.SUCCESS,
            )
        for refusal in refused:
            self.message_user(request, refusal, messages.WARNING)
        return None

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
    """When, what (linked to the event's page, if any), and what came of it (linked to the
    parcel's tracking page, for the shipment)."""
    what = entry.label
    if entry.event_pk is not None:
        url = reverse("admin:payments_stripeevent_change", args=[entry.event_pk])
        what = format_html('<a href="{}">{}</a>', url, entry.label)
    detail = entry.detail or ""
    if entry.url:
        detail = format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', entry.url, detail
        )
    return when(entry.at), what, detail
