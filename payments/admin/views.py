"""The owner's own pages, beside the orders' list: the shipment form, the delivery's
confirmation, the packing slip, the dashboard, the refund's confirmation, the invoices' and
credit notes' PDFs and their export. Each checks the orders admin's permission, calls one
service or selector and renders; `OrderAdmin.get_urls` (and the documents' admins') mount
them behind the admin's login."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from payments import documents, selectors, services
from payments.admin.filters import ShipmentFilter, WithdrawalFilter
from payments.carriers import Carrier
from payments.exceptions import RefundRefused, ShipmentRefused
from payments.forms import REFUND_REASONS, PeriodForm, RefundForm, ShipmentForm
from payments.models import CreditNote, Invoice, Order
from payments.services import refunds
from products.models import StockStatus
from products.templatetags.money import euros


def order_ship(request: HttpRequest, object_id: int, *, model_admin: ModelAdmin) -> HttpResponse:
    """Record the shipment (the buyer gets one e-mail with the tracking), or correct the
    tracking of an order already shipped (no second e-mail). An order that is not paid
    (refunded, cancelled...) gets no form: it must not leave (a POST is refused, 409)."""
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
                "other_carrier": order.other_carrier,
                "tracking_number": order.tracking_number,
                "tracking_url": order.tracking_url if order.carrier == Carrier.OTHER else "",
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Expédition de la commande {order.reference}",
        "order": order,
        "items": order.items.all(),
        "form": form if order.status == Order.Status.PAID else None,
        "stamp": slip_stamp(order),
    }
    return TemplateResponse(request, "admin/payments/order/ship.html", context, status=status)


@require_http_methods(["GET", "POST"])
def order_delivery(
    request: HttpRequest, object_id: int, *, model_admin: ModelAdmin
) -> HttpResponse:
    """« Marquer livrée » from the order's page: a confirmation (the buyer's withdrawal
    period runs from this day), then the record, once."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=object_id)
    if request.method == "POST":
        try:
            services.mark_delivered(order_id=order.pk)
        except ShipmentRefused as refusal:
            model_admin.message_user(request, refusal.message, messages.ERROR)
        else:
            model_admin.message_user(
                request, f"Commande {order.reference} marquée livrée aujourd'hui.", messages.SUCCESS
            )
        return redirect("admin:payments_order_change", order.pk)
    return delivery_confirmation(
        request,
        Order.objects.filter(pk=order.pk),
        model_admin=model_admin,
        action_url=reverse("admin:payments_order_delivery", args=[order.pk]),
        back_url=reverse("admin:payments_order_change", args=[order.pk]),
    )


def delivery_confirmation(
    request: HttpRequest,
    orders: QuerySet[Order],
    *,
    model_admin: ModelAdmin,
    action_url: str,
    back_url: str,
    hidden: dict[str, Any] | None = None,
) -> TemplateResponse:
    """The page that asks before orders are marked delivered: which will be, which cannot
    be and why (`services.delivery_refusal`, the rule the service applies)."""
    listed = [
        (order, services.delivery_refusal(order)) for order in orders.order_by("shipped_at", "pk")
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Marquer livrée" if len(listed) == 1 else "Marquer livrées",
        "orders": listed,
        "deliverable": sum(1 for _, refusal in listed if not refusal),
        "action_url": action_url,
        "back_url": back_url,
        "hidden": hidden or {},
        "withdrawal_days": settings.WITHDRAWAL_DAYS,
    }
    return TemplateResponse(request, "admin/payments/order/deliver.html", context)


def order_packing_slip(
    request: HttpRequest, object_id: int, *, model_admin: ModelAdmin
) -> HttpResponse:
    """A printable page to slip in the parcel: the address, the pieces, the reference. An
    order that must not leave (refunded, cancelled, unpaid) is stamped so, in capitals."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=object_id)
    context = {
        "order": order,
        "items": order.items.all(),
        "shop_name": settings.SHOP_NAME,
        "shop_url": settings.APP_URL,
        "stamp": slip_stamp(order),
    }
    return TemplateResponse(request, "admin/payments/order/packing_slip.html", context)


def slip_stamp(order: Order) -> str:
    """What a packing slip says in place of « Payée le … » when the order must not leave."""
    if order.status == Order.Status.PAID:
        return ""
    if order.status == Order.Status.REFUNDED:
        return "REMBOURSÉE – NE PAS EXPÉDIER"
    if order.status == Order.Status.CANCELLED:
        return "ANNULÉE – NE PAS EXPÉDIER"
    return "NON PAYÉE – NE PAS EXPÉDIER"


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


def order_refund(request: HttpRequest, object_id: int, *, model_admin: ModelAdmin) -> HttpResponse:
    """The refund's confirmation (SPEC §5, issue of refunds an owner cannot get wrong): the
    amount (all that is left by default, a part allowed, never more), the reason, the pieces
    to put back on sale, and a warning when the parcel has left. The service checks the
    amount again under the order's lock."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=object_id)
    items = list(order.items.all())
    left = refunds.refundable(order)
    pieces = [(item.product_id, item.name) for item in items]
    status = 200
    if request.method == "POST":
        form = RefundForm(request.POST, left=left, pieces=pieces)
        if form.is_valid():
            try:
                done = services.refund_sale(
                    order_id=order.pk,
                    amount=form.cleaned_data["montant"],
                    note=form.cleaned_data["motif"],
                    put_back_product_ids=form.cleaned_data["remettre_en_vente"],
                )
            except RefundRefused as refusal:
                model_admin.message_user(request, refusal.message, messages.ERROR)
                order.refresh_from_db()
                left = refunds.refundable(order)
                form = RefundForm(request.POST, left=left, pieces=pieces)
                status = 409
            else:
                model_admin.message_user(request, _refund_message(done), messages.SUCCESS)
                return redirect("admin:payments_order_change", order.pk)
        else:
            status = 400
    else:
        form = RefundForm(
            initial={
                "montant": left,
                "motif": REFUND_REASONS[0] if order.withdrawn_at else "",
                "remettre_en_vente": [] if order.shipped_at else [pk for pk, _ in pieces],
            },
            left=left,
            pieces=pieces,
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Rembourser la commande {order.reference}",
        "order": order,
        "items": items,
        "form": form,
        "left": left,
        "paid": refunds.paid_amount(order),
        "earlier_refunds": order.refunds.all(),
        "refundable": order.status == Order.Status.PAID and left > 0,
        "reasons": REFUND_REASONS,
    }
    return TemplateResponse(request, "admin/payments/order/refund.html", context, status=status)


def _refund_message(done: services.RefundDone) -> str:
    order, refund = done.order, done.refund
    text = f"Remboursement de {euros(refund.amount)} enregistré pour la commande {order.reference}"
    text += " (commande entièrement remboursée)." if done.closed else " (remboursement partiel)."
    if done.credit_note_number:
        text += f" Avoir {done.credit_note_number} émis et envoyé au client."
    if done.put_back:
        text += " Remis en vente : " + ", ".join(p.name for p in done.put_back) + "."
    text += " Stripe reçoit le remboursement dans l'instant ; son état s'affiche sur la commande."
    return text


def order_invoice_pdf(
    request: HttpRequest, object_id: int, *, model_admin: ModelAdmin
) -> HttpResponse:
    """The invoice of an order, as the buyer has it."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    invoice = get_object_or_404(Invoice, order_id=object_id)
    return _pdf_response(invoice)


def order_credit_note_pdf(
    request: HttpRequest, object_id: int, number: str, *, model_admin: ModelAdmin
) -> HttpResponse:
    """A credit note of an order, as the buyer has it."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    note = get_object_or_404(CreditNote, refund__order_id=object_id, number=number)
    return _pdf_response(note)


def _pdf_response(document: Invoice | CreditNote) -> HttpResponse:
    response = HttpResponse(documents.pdf_of(document), content_type=documents.PDF)
    response["Content-Disposition"] = f'inline; filename="{documents.filename_of(document)}"'
    return response


def documents_export(request: HttpRequest, *, model_admin: ModelAdmin) -> HttpResponse:
    """For the accountant: the invoices and credit notes of a period, as a CSV that French
    Excel opens as it is (SPEC §12)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, initial={"du": today.replace(day=1), "au": today})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["du"], form.cleaned_data["au"]
        response = HttpResponse(
            documents.ledger_csv(documents.ledger(start, end)),
            content_type="text/csv; charset=utf-8",
        )
        name = f"factures-avoirs-{start:%Y-%m-%d}-{end:%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Exporter les factures et avoirs",
        "form": form,
    }
    status = 400 if form.is_bound else 200
    return TemplateResponse(request, "admin/payments/documents_export.html", context, status=status)
