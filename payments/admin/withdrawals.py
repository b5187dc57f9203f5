"""The buyers' withdrawals in the orders' admin (SPEC §12): a column on the list (the refund's
deadline, red once passed), and on a withdrawn order's page the declaration as the buyer sent
it and what to do. The refund itself is the refund's confirmation
(`admin:payments_order_refund`, payments/admin/documents.py), which the column and the
order's page link to: the amount (all that is left), the reason, the pieces to put back on
sale once they are back."""

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from payments import withdrawal_period
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
        refund = reverse("admin:payments_order_refund", args=[order.pk])
        if _overdue(deadline):
            return format_html(
                '<a class="withdrawal withdrawal--overdue" href="{}">en retard : {}</a>',
                refund,
                f"{deadline:%d/%m/%Y}",
            )
        return format_html(
            '<a class="withdrawal withdrawal--todo" href="{}">à rembourser le {}</a>',
            refund,
            f"{deadline:%d/%m/%Y}",
        )

    @admin.display(description="à rembourser au plus tard le")
    def withdrawal_deadline(self, order: Order) -> str:
        if order.status != Order.Status.PAID:
            return f"Remboursée ({order.get_status_display().lower()})"
        return format_html(
            '{}<p class="withdrawal-help"><a class="button" href="{}">Rembourser…</a> '
            "Tout ce qui reste est proposé ; cochez les pièces à remettre en vente une fois "
            "revenues (vous pourrez aussi les remettre en vente depuis les pièces). Le "
            "remboursement peut attendre leur retour ou la preuve de leur envoi, pas cette "
            "date.</p>",
            _deadline(order),
            reverse("admin:payments_order_refund", args=[order.pk]),
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
