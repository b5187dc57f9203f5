"""The owner's view of payments: orders and the Stripe event log.

Declarative on purpose: every action calls a service (payments.services,
payments.webhooks), the admin itself changes no row. Orders and events are
read-only: a save from the change form would write the whole row back and
could undo what a webhook committed in the meantime.
"""

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payments import limits, selectors, services, webhooks
from payments.exceptions import ShipmentRefused
from payments.forms import ShipmentForm
from payments.models import Order, OrderItem, StripeEvent
from payments.selectors import CONFLICT, STRIPE_CALL_PENDING, TO_SHIP, TimelineEntry, order_timeline
from products.models import StockStatus
from products.templatetags.money import euros

REPROCESS_OUTCOMES = {
    "processed": "traité",
    "ignored": "ignoré",
    "duplicate": "déjà traité, rien changé",
    "failed": "échec, voir l'erreur sur l'événement",
}


# --- Links to the Stripe dashboard ----------------------------------------------------------


def stripe_dashboard_url(path: str, object_id: str) -> str:
    """The dashboard page of a Stripe object, in test or live mode after the API key.

    Empty with the offline server: its objects exist in no dashboard."""
    if not object_id or settings.STRIPE_OFFLINE:
        return ""
    mode = "test/" if settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_")) else ""
    return f"https://dashboard.stripe.com/{mode}{path}/{object_id}"


def _stripe_link(path: str, object_id: str) -> str:
    if not object_id:
        return "—"
    url = stripe_dashboard_url(path, object_id)
    if not url:
        return object_id
    return format_html(
        '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, object_id
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "d/m/Y H:i:s")


# --- Order timeline -------------------------------------------------------------------------


def _timeline_cells(entry: TimelineEntry) -> tuple[str, str, str]:
    """When, what (linked to the event's page, if any), and what came of it."""
    what = entry.label
    if entry.event_pk is not None:
        url = reverse("admin:payments_stripeevent_change", args=[entry.event_pk])
        what = format_html('<a href="{}">{}</a>', url, entry.label)
    return _when(entry.at), what, entry.detail or ""


# --- What the order and event admins share -------------------------------------------------


class ServiceWrittenAdmin(admin.ModelAdmin):
    """Rows only the shop's services write: an order comes from a checkout and stays as the
    record of what was paid; an event records what Stripe sent. Nobody adds or deletes one."""

    class Media:
        css = {"all": ["css/payments-admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Orders ---------------------------------------------------------------------------------


class ShipmentFilter(admin.SimpleListFilter):
    """Paid orders waiting to leave, oldest payment first: what the owner sees on opening
    the orders. Choosing another filter, or searching, shows every order it matches."""

    title = "expédition"
    parameter_name = "expedition"
    TO_SHIP = "a-expedier"
    SHIPPED = "expediees"
    ALL = "toutes"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        # Only a page being looked at gets the default: an action posted to the list acts
        # on the orders selected, whatever the list showed.
        others = set(request.GET) - {"o", "p", self.parameter_name}
        self.default = None if others or request.method != "GET" else self.TO_SHIP

    def lookups(self, request, model_admin):
        return [
            (self.TO_SHIP, "À expédier"),
            (self.SHIPPED, "Expédiées"),
            (self.ALL, "Toutes les commandes"),
        ]

    def value(self):
        return super().value() or self.default

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == self.TO_SHIP:
            return queryset.filter(TO_SHIP)
        if self.value() == self.SHIPPED:
            return queryset.filter(shipped_at__isnull=False)
        return queryset


class StripeCallPendingFilter(admin.SimpleListFilter):
    title = "appels Stripe"
    parameter_name = "stripe"

    def lookups(self, request, model_admin):
        return [("a-relancer", "À relancer")]

    def queryset(self, request, queryset):
        if self.value() == "a-relancer":
            return queryset.filter(STRIPE_CALL_PENDING)
        return queryset


class ConflictFilter(admin.SimpleListFilter):
    title = "conflits"
    parameter_name = "conflit"

    def lookups(self, request, model_admin):
        return [("oui", "Conflits (remboursés automatiquement)")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(CONFLICT)
        return queryset


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
class OrderAdmin(ServiceWrittenAdmin):
    list_display = [
        "reference",
        "status_badge",
        # Before the dates: on a laptop's width the last columns scroll out of sight.
        "shipment_column",
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
    inlines = [OrderItemInline]
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
    readonly_fields = flatten_fieldsets(fieldsets)
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
                _when(order.shipped_at)[:10],
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
        return _stripe_link("checkout/sessions", order.stripe_session_id or "")

    @admin.display(description="PaymentIntent")
    def payment_intent_link(self, order: Order) -> str:
        return _stripe_link("payments", order.stripe_payment_intent_id)

    @admin.display(description="remboursement Stripe")
    def refund_link(self, order: Order) -> str:
        return _stripe_link("refunds", order.stripe_refund_id)

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
        shown = ShipmentFilter(request, dict(request.GET.lists()), Order, self)
        if shown.value() == ShipmentFilter.TO_SHIP:
            return ["paid_at", "pk"]
        return super().get_ordering(request)

    # --- Pages of their own: the shipment form, the packing slip, the dashboard.

    def get_urls(self):
        own = [
            path(
                "<int:object_id>/expedition/",
                self.admin_site.admin_view(self.ship_view),
                name="payments_order_ship",
            ),
            path(
                "<int:object_id>/bordereau/",
                self.admin_site.admin_view(self.packing_slip_view),
                name="payments_order_packing_slip",
            ),
            path(
                "tableau-de-bord/",
                self.admin_site.admin_view(self.dashboard_view),
                name="payments_order_dashboard",
            ),
        ]
        return own + super().get_urls()

    def ship_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Record the shipment (the buyer gets one e-mail with the tracking), or correct the
        tracking of an order already shipped (no second e-mail)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=object_id)
        status = 200
        if request.method == "POST":
            form = ShipmentForm(request.POST)
            if form.is_valid():
                change = (
                    services.update_tracking if "_update" in request.POST else services.ship_order
                )
                try:
                    order = change(order_id=order.pk, **form.cleaned_data)
                except ShipmentRefused as refusal:
                    self.message_user(request, refusal.message, messages.ERROR)
                    order.refresh_from_db()
                    status = 409
                else:
                    self.message_user(request, _shipment_message(order, change), messages.SUCCESS)
                    return redirect("admin:payments_order_change", order.pk)
            else:
                status = 400
        else:
            form = ShipmentForm(
                initial={
                    "carrier": order.carrier,
                    "tracking_number": order.tracking_number,
                    "tracking_url": order.tracking_url,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Expédition de la commande {order.reference}",
            "order": order,
            "items": order.items.all(),
            "form": form,
        }
        return TemplateResponse(request, "admin/payments/order/ship.html", context, status=status)

    def packing_slip_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A printable page to slip in the parcel: the address, the pieces, the reference."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=object_id)
        context = {
            "order": order,
            "items": order.items.all(),
            "shop_name": settings.SHOP_NAME,
            "shop_url": settings.APP_URL,
        }
        return TemplateResponse(request, "admin/payments/order/packing_slip.html", context)

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """The owner's day: sales, orders to ship, held pieces, refunds, what needs a look."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        figures = selectors.dashboard(now=now)
        today, month = selectors.day_start(now), selectors.month_start(now)
        next_month = selectors.next_month_start(now)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Tableau de bord",
            "figures": figures,
            "links": {
                "today": _orders_url(
                    status__exact="paid", paid_at__gte=today, paid_at__lt=today + timedelta(days=1)
                ),
                "month": _orders_url(
                    status__exact="paid", paid_at__gte=month, paid_at__lt=next_month
                ),
                "to_ship": _orders_url(expedition=ShipmentFilter.TO_SHIP),
                "held": reverse("admin:products_product_changelist")
                + "?"
                + urlencode({"statut": StockStatus.RESERVED}),
                "refunds": _orders_url(
                    status__exact="refunded", refunded_at__gte=month, refunded_at__lt=next_month
                ),
                "stripe_calls": _orders_url(stripe="a-relancer"),
                "conflicts": _orders_url(conflit="oui"),
            },
        }
        return TemplateResponse(request, "admin/payments/dashboard.html", context)

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
        refunded, skipped, pending = [], [], []
        for order_id, reference in queryset.values_list("pk", "reference"):
            outcome = services.refund_paid_order(
                order_id=order_id, put_back_on_sale=put_back_on_sale
            )
            if not outcome.startswith("refunded"):
                skipped.append(reference)
                continue
            refunded.append(reference)
            # The service calls Stripe after its commit; a refused call leaves the flag up.
            if Order.objects.filter(pk=order_id, refund_pending=True).exists():
                pending.append(reference)
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


def _orders_url(**query: Any) -> str:
    return (
        reverse("admin:payments_order_changelist")
        + "?"
        + urlencode({key: str(value) for key, value in query.items()})
    )


def _shipment_message(order: Order, change: Any) -> str:
    if change is services.update_tracking:
        return f"Suivi de la commande {order.reference} modifié (aucun nouvel e-mail)."
    to = order.customer_email or "personne (e-mail inconnu)"
    return f"Commande {order.reference} expédiée : e-mail de suivi envoyé à {to}."


# --- Stripe events --------------------------------------------------------------------------


@admin.register(StripeEvent)
class StripeEventAdmin(ServiceWrittenAdmin):
    list_display = [
        "received_at",
        "type",
        "stripe_id",
        "outcome",
        "order_link",
        "attempts",
        "processed_at",
        "detail",
    ]
    list_filter = ["type", "outcome", "received_at"]
    search_fields = ["=stripe_id", "order__reference"]
    list_select_related = ["order"]
    date_hierarchy = "received_at"
    list_per_page = 100
    fields = [
        "stripe_link",
        "type",
        "outcome",
        "detail",
        "error",
        "attempts",
        "received_at",
        "processed_at",
        "order_link",
        "payload_pretty",
    ]
    readonly_fields = fields
    actions = ["reprocess"]

    # What Stripe sent is never edited; reprocessing has a permission of its own.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        """Reprocessing acts on orders: it needs the change permission on events."""
        return request.user.has_perm("payments.change_stripeevent")

    @admin.display(description="événement Stripe", ordering="stripe_id")
    def stripe_link(self, event: StripeEvent) -> str:
        return _stripe_link("events", event.stripe_id)

    @admin.display(description="commande", ordering="order__reference")
    def order_link(self, event: StripeEvent) -> str:
        if event.order is None:
            return "—"
        url = reverse("admin:payments_order_change", args=[event.order_id])
        return format_html('<a href="{}">{}</a>', url, event.order.reference)

    @admin.display(description="contenu")
    def payload_pretty(self, event: StripeEvent) -> str:
        return format_html(
            '<pre class="stripe-json">{}</pre>',
            json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True),
        )

    @admin.action(description="Retraiter", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        for event in queryset.order_by("received_at", "pk"):
            result = webhooks.reprocess_event(event.pk)
            label = REPROCESS_OUTCOMES.get(result.outcome, result.outcome)
            detail = f" ({result.detail})" if result.detail else ""
            level = messages.ERROR if result.outcome == "failed" else messages.SUCCESS
            self.message_user(request, f"{event.stripe_id} : {label}{detail}.", level)
