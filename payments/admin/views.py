"""The owner's own pages, beside the orders' list: the shipment form, the packing slip, the
dashboard. Each checks the orders admin's permission, calls one service or selector and
renders; `OrderAdmin.get_urls` mounts them behind the admin's login."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from payments import selectors, services
from payments.admin.filters import ShipmentFilter, WithdrawalFilter
from payments.exceptions import ShipmentRefused
from payments.forms import ShipmentForm
from payments.models import Order
from products.models import StockStatus


def order_ship(request: HttpRequest, object_id: int, *, model_admin: ModelAdmin) -> HttpResponse:
    """Record the shipment (the buyer gets one e-mail with the tracking), or correct the
    tracking of an order already shipped (no second e-mail)."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=object_id)
    status = 200
    if request.method == "POST":
        form = ShipmentForm(request.POST)
        if form.is_valid():
            change = services.update_tracking if "_update" in request.POST else services.ship_order
            try:
                order = change(order_id=order.pk, **form.cleaned_data)
            except ShipmentRefused as refusal:
                model_admin.message_user(request, refusal.message, messages.ERROR)
                order.refresh_from_db()
                status = 409
            else:
                model_admin.message_user(
                    request, _shipment_message(order, change), messages.SUCCESS
                )
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
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Expédition de la commande {order.reference}",
        "order": order,
        "items": order.items.all(),
        "form": form,
    }
    return TemplateResponse(request, "admin/payments/order/ship.html", context, status=status)


def order_packing_slip(
    request: HttpRequest, object_id: int, *, model_admin: ModelAdmin
) -> HttpResponse:
    """A printable page to slip in the parcel: the address, the pieces, the reference."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=object_id)
    context = {
        "order": order,
        "items": order.items.all(),
        "shop_name": settings.SHOP_NAME,
        "shop_url": settings.APP_URL,
    }
    return TemplateResponse(request, "admin/payments/order/packing_slip.html", context)


def dashboard(request: HttpRequest, *, model_admin: ModelAdmin) -> HttpResponse:
    """The owner's day: sales, orders to ship, withdrawals to refund, held pieces, refunds,
    what needs a look, and what to settle before opening."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    figures = selectors.dashboard(now=now)
    today, month = selectors.day_start(now), selectors.month_start(now)
    next_month = selectors.next_month_start(now)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Tableau de bord",
        "figures": figures,
        "to_settle": selectors.opening_checklist(),
        "links": {
            "today": _orders_url(
                status__exact="paid", paid_at__gte=today, paid_at__lt=today + timedelta(days=1)
            ),
            "month": _orders_url(status__exact="paid", paid_at__gte=month, paid_at__lt=next_month),
            "to_ship": _orders_url(expedition=ShipmentFilter.TO_SHIP),
            "held": reverse("admin:products_product_changelist")
            + "?"
            + urlencode({"statut": StockStatus.RESERVED}),
            "refunds": _orders_url(
                status__exact="refunded", refunded_at__gte=month, refunded_at__lt=next_month
            ),
            "stripe_calls": _orders_url(stripe="a-relancer"),
            "conflicts": _orders_url(conflit="oui"),
            "withdrawals": _orders_url(
                **{WithdrawalFilter.parameter_name: WithdrawalFilter.TO_HANDLE}
            ),
        },
    }
    return TemplateResponse(request, "admin/payments/dashboard.html", context)


def _orders_url(**query: Any) -> str:
    return (
        reverse("admin:payments_order_changelist")
        + "?"
        + urlencode({key: str(value) for key, value in query.items()})
    )


def _shipment_message(order: Order, change: Any) -> str:
    if change is services.update_tracking:
        return f"Suivi de la commande {order.reference} modifié (aucun nouvel e-mail)."
    if not order.customer_email:
        return f"Commande {order.reference} expédiée (e-mail du client inconnu : aucun e-mail)."
    return (
        f"Commande {order.reference} expédiée : l'e-mail de suivi à {order.customer_email} "
        "part dans l'instant (son état est affiché sur la commande, « E-mails de la commande »)."
    )
