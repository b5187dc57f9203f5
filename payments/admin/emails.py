"""The owner's view of the outbox (payments/outbox.py): every e-mail the shop sends, whether
it left, and why not, and an order's own e-mails on its page. Read-only; *Renvoyer* queues
refused ones again (a service: `services.mail.send_again`)."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payments.admin.common import table
from payments.models import Order, OutboxMessage
from payments.services import mail
from shop.admin_site import dated


def _state(message: OutboxMessage) -> str:
    """The message's state in the owner's words."""
    if message.status == OutboxMessage.Status.SENT:
        when = formats.date_format(timezone.localtime(message.sent_at), "d/m/Y H:i")
        return f"Envoyé le {when}"
    if message.status == OutboxMessage.Status.REFUSED:
        return f"Refusé après {message.attempts} tentatives : {message.last_error}"
    if message.last_error:
        return f"En attente : {message.last_error}"
    return "En attente d'envoi"


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["subject", "state_badge", "recipients", "order_link", "created_at"]
    list_filter = ["status", ("created_at", dated("date"))]
    search_fields = ["subject", "order__reference", "to"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    list_per_page = 100
    fields = [
        "subject",
        "recipients",
        "state_badge",
        "order_link",
        "created_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "error_detail",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    class Media:
        css = {"all": ["css/payments-admin.css"]}

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_outboxmessage")

    @admin.display(description="destinataires")
    def recipients(self, message: OutboxMessage) -> str:
        return ", ".join(message.to)

    @admin.display(description="état", ordering="status")
    def state_badge(self, message: OutboxMessage) -> str:
        return format_html(
            '<span class="email-status email-status--{}">{}</span>', message.status, _state(message)
        )

    @admin.display(description="commande", ordering="order__reference")
    def order_link(self, message: OutboxMessage) -> str:
        if message.order is None:
            return "—"
        url = reverse("admin:payments_order_change", args=[message.order_id])
        return format_html('<a href="{}">{}</a>', url, message.order.reference)

    @admin.action(description="Renvoyer les e-mails refusés", permissions=["send_again"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = mail.send_again(message_ids=queryset.values_list("pk", flat=True))
        if count:
            self.message_user(
                request,
                f"{count} e-mail(s) remis en file d'envoi : ils partent avec le prochain envoi.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, "Aucun e-mail refusé dans la sélection : rien à renvoyer.", messages.INFO
            )


def order_emails(order: Order) -> SafeString:
    """An order's e-mails, for its page: subject (linked to the e-mail's page), recipients,
    state, newest first."""
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:payments_outboxmessage_change", args=[message.pk]),
                message.subject,
                ", ".join(message.to),
                format_html(
                    '<span class="email-status email-status--{}">{}</span>',
                    message.status,
                    _state(message),
                ),
            )
            for message in order.emails.all()
        ),
    )
    headings = ("Objet", "Destinataires", "État")
    return table("order-emails", headings, rows, empty="Aucun e-mail pour cette commande.")
