"""Refunds and the documents of a sale, in the owner's admin: the refund's confirmation
(from the orders' list and from an order's page), an order's refunds and documents (a
fieldset of the order's page), the
invoices and credit notes (read-only: issued documents never change) and their export for
the accountant. The pages are payments/admin/views.py's."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payments.admin import views
from payments.admin.common import own_page, table, when
from payments.models import CreditNote, Invoice, Order, Refund
from payments.services.refunds import refundable
from products.templatetags.money import euros


def invoice_url(order_id: int) -> str:
    return reverse("admin:payments_order_invoice", args=[order_id])


def credit_note_url(order_id: int, number: str) -> str:
    return reverse("admin:payments_order_credit_note", args=[order_id, number])


class OrderRefundsMixin:
    """What OrderAdmin gets from here: the refund's confirmation page and action, and the
    fields of the « Remboursements et pièces comptables » fieldset (`REFUND_FIELDSET`)."""

    REFUND_FIELDSET = (
        "Remboursements et pièces comptables",
        {"fields": ["refund_button", "refunds", "documents"]},
    )

    def get_urls(self):
        refund, invoice, note = (
            views.order_refund,
            views.order_invoice_pdf,
            views.order_credit_note_pdf,
        )
        return [
            path(
                "<int:object_id>/rembourser/", own_page(self, refund), name="payments_order_refund"
            ),
            path(
                "<int:object_id>/facture/", own_page(self, invoice), name="payments_order_invoice"
            ),
            path(
                "<int:object_id>/avoir/<str:number>/",
                own_page(self, note),
                name="payments_order_credit_note",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="remboursement")
    def refund_button(self, order: Order) -> str:
        if order.status != Order.Status.PAID:
            return "—" if order.status != Order.Status.REFUNDED else "Entièrement remboursée."
        left = refundable(order)
        return format_html(
            '<a class="button refund-button" href="{}">Rembourser…</a> '
            '<span class="help">reste à rembourser : {}</span>',
            reverse("admin:payments_order_refund", args=[order.pk]),
            euros(left),
        )

    @admin.display(description="remboursements")
    def refunds(self, order: Order) -> SafeString:
        """The order's refunds: when, how much, why, Stripe's state (and its error while it
        has not taken one: `reconcile` and the action « Relancer » send it again)."""
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    when(refund.created_at),
                    euros(refund.amount) + (" (partiel)" if refund.partial else ""),
                    refund.note or refund.get_reason_display(),
                    _refund_state(refund),
                )
                for refund in order.refunds.all()
            ),
        )
        headings = ("Décidé le", "Montant", "Motif", "Stripe")
        return table("order-refunds", headings, rows, empty="Aucun remboursement.")

    @admin.display(description="facture et avoirs")
    def documents(self, order: Order) -> str:
        invoice = Invoice.objects.filter(order=order).first()
        if invoice is None:
            return "Aucune facture (la commande n'est pas devenue une vente)."
        links = [(invoice_url(order.pk), f"Facture {invoice.number}", euros(invoice.total))]
        for note in CreditNote.objects.filter(invoice=invoice).order_by("issued_at", "number"):
            links.append(
                (credit_note_url(order.pk, note.number), f"Avoir {note.number}", euros(note.total))
            )
        return format_html_join(" · ", '<a href="{}" class="document-link">{}</a> ({})', links)

    @admin.action(description="Rembourser… (une commande à la fois)", permissions=["change"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]):
        """Leads to the refund's confirmation: the amount, the reason, the pieces to put
        back, a warning when the parcel has left. Nothing is refunded from the list."""
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            self.message_user(
                request,
                "Choisissez une seule commande : chaque remboursement se confirme sur sa page "
                "(montant, motif, pièces remises en vente).",
                messages.WARNING,
            )
            return None
        return HttpResponseRedirect(reverse("admin:payments_order_refund", args=[ids[0]]))


def _refund_state(refund: Refund) -> str:
    if refund.state == Refund.State.SENT:
        return f"Accepté le {when(refund.sent_at)}"
    if refund.state == Refund.State.FAILED:
        return format_html(
            '<span class="stripe-pending">⚠ {} ({})</span>',
            refund.get_state_display(),
            refund.last_error[:200],
        )
    return refund.get_state_display()


class IssuedDocumentAdmin(admin.ModelAdmin):
    """Issued documents are read, downloaded and exported; never added, changed or deleted."""

    list_display = ["number", "issued_at_display", "order_link", "buyer", "total_display"]
    search_fields = ["number"]
    date_hierarchy = "issued_at"
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("payments.view_order") or request.user.has_perm(
            "payments.change_order"
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_urls(self):
        name = f"payments_{self.opts.model_name}_export"
        return [
            path("exporter/", own_page(self, views.documents_export), name=name),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "export_url": reverse(f"admin:payments_{self.opts.model_name}_export"),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any):
        """A document's page is its PDF."""
        document = self.get_object(request, object_id)
        if document is None:
            return super().change_view(request, object_id, *args, **kwargs)
        return HttpResponseRedirect(self.pdf_url(document))

    @admin.display(description="date", ordering="issued_at")
    def issued_at_display(self, document: Any) -> str:
        return when(document.issued_at)[:10]

    @admin.display(description="client")
    def buyer(self, document: Any) -> str:
        buyer = document.content.get("buyer") or {}
        return buyer.get("name") or buyer.get("email") or "—"

    @admin.display(description="montant TTC", ordering="total")
    def total_display(self, document: Any) -> str:
        return euros(document.total)


@admin.register(Invoice)
class InvoiceAdmin(IssuedDocumentAdmin):
    change_list_template = "admin/payments/documents_change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invoice]:
        return super().get_queryset(request).select_related("order")

    def pdf_url(self, invoice: Invoice) -> str:
        return invoice_url(invoice.order_id)

    @admin.display(description="commande")
    def order_link(self, invoice: Invoice) -> str:
        url = reverse("admin:payments_order_change", args=[invoice.order_id])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">PDF</a>',
            url,
            invoice.order.reference,
            self.pdf_url(invoice),
        )


@admin.register(CreditNote)
class CreditNoteAdmin(IssuedDocumentAdmin):
    change_list_template = "admin/payments/documents_change_list.html"
    list_display = [*IssuedDocumentAdmin.list_display, "invoice"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditNote]:
        return super().get_queryset(request).select_related("invoice__order")

    def pdf_url(self, note: CreditNote) -> str:
        return credit_note_url(note.invoice.order_id, note.number)

    @admin.display(description="commande")
    def order_link(self, note: CreditNote) -> str:
        order = note.invoice.order
        url = reverse("admin:payments_order_change", args=[order.pk])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">PDF</a>', url, order.reference, self.pdf_url(note)
        )
