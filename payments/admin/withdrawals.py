"""The buyers' withdrawals in the orders' admin (SPEC §12): a column on the list (the refund's
deadline, red once passed), and on a withdrawn order's page the declaration as the buyer sent
it and what to do. The refund itself is the orders' actions: « Rembourser (et remettre les
pièces en vente) » once the pieces are back, « Rembourser (sans remettre en vente) » before."""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from payments import withdrawal_period
from payments.admin.filters import WithdrawalFilter
from payments.models import Order
from shop import words

WITHDRAWAL_FIELDS = ["withdrawal_deadline", "withdrawal_declaration_display"]


class WithdrawalAdminMixin:
    """For OrderAdmin: add `withdrawal_column` to the list, WITHDRAWAL_FIELDS to the
    read-only fields, and pass an order's fieldsets through `with_withdrawal`: the
    « Rétractation » section shows on withdrawn orders only, right after the summary."""

    def with_withdrawal(self, fieldsets: list, obj: Any) -> list:
        if obj is None or obj.withdrawn_at is None:
            return fieldsets
        return [fieldsets[0], ("Rétractation", {"fields": WITHDRAWAL_FIELDS}), *fieldsets[1:]]

    @admin.display(description="rétractation", ordering="withdrawn_at")
    def withdrawal_column(self, order: Order) -> str:
        """Short, for a laptop's width: the refund's deadline, red with « en retard » once
        passed; « remboursée » once done."""
        if order.withdrawn_at is None:
            return "—"
        if order.status != Order.Status.PAID:
            return format_html('<span class="withdrawal withdrawal--done">remboursée</span>')
        deadline = withdrawal_period.refund_deadline(order.withdrawn_at)
        if _overdue(deadline):
            return format_html(
                '<span class="withdrawal withdrawal--overdue">en retard : {}</span>',
                f"{deadline:%d/%m/%Y}",
            )
        return format_html(
            '<span class="withdrawal withdrawal--todo">à rembourser le {}</span>',
            f"{deadline:%d/%m/%Y}",
        )

    @admin.display(description="à rembourser au plus tard le")
    def withdrawal_deadline(self, order: Order) -> str:
        if order.status != Order.Status.PAID:
            return f"Remboursée ({order.get_status_display().lower()})"
        to_handle = (
            reverse("admin:payments_order_changelist")
            + "?"
            + urlencode(
                {WithdrawalFilter.parameter_name: WithdrawalFilter.TO_HANDLE, "q": order.reference}
            )
        )
        return format_html(
            '{}<p class="withdrawal-help">Pour rembourser : <a href="{}">« Rétractations à '
            "traiter »</a>, cochez la commande, puis l'action « Rembourser (et remettre les "
            "pièces en vente) » une fois les pièces revenues, ou « Rembourser (sans remettre "
            "en vente) » avant leur retour (vous les remettrez en vente depuis les pièces). "
            "Le remboursement peut attendre leur retour ou la preuve de leur envoi, pas cette "
            "date.</p>",
            _deadline(order),
            to_handle,
        )

    @admin.display(description="déclaration du client")
    def withdrawal_declaration_display(self, order: Order) -> str:
        declaration = order.withdrawal_declaration or {}
        submitted = declaration.get("submitted_at")
        return render_to_string(
            "admin/payments/order/_declaration.html",
            {
                "declaration": declaration,
                "submitted_at_text": (
                    words.paris_moment(datetime.fromisoformat(submitted)) if submitted else "—"
                ),
            },
        )


def _deadline(order: Order) -> str:
    deadline = withdrawal_period.refund_deadline(order.withdrawn_at)
    overdue = _overdue(deadline)
    return format_html(
        '<span class="withdrawal withdrawal--{}">{} au plus tard le {}</span>',
        "overdue" if overdue else "todo",
        "Délai dépassé : à rembourser" if overdue else "À rembourser",
        f"{deadline:%d/%m/%Y}",
    )


def _overdue(deadline) -> bool:
    return withdrawal_period.paris_day(timezone.now()) > deadline
