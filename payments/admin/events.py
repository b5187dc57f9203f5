"""The Stripe event log: what Stripe sent, read-only, and the action that runs an event
through the webhook's path again."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from payments import webhooks, wording
from payments.admin.common import ServiceWrittenAdmin, stripe_link
from payments.models import StripeEvent
from shop.admin_site import dated

REPROCESS_OUTCOMES = {
    "processed": "traité",
    "ignored": "ignoré",
    "duplicate": "déjà traité, rien changé",
    "failed": "échec, voir l'erreur sur l'événement",
}


@admin.register(StripeEvent)
class StripeEventAdmin(ServiceWrittenAdmin):
    list_display = [
        "received_at",
        "what",
        "result",
        "order_link",
        "type",
        "stripe_id",
        "attempts",
        "processed_at",
    ]
    list_filter = ["type", "outcome", ("received_at", dated("date de réception"))]
    search_fields = ["=stripe_id", "order__reference"]
    list_select_related = ["order"]
    date_hierarchy = "received_at"
    list_per_page = 100
    fields = [
        "what",
        "result",
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
        return stripe_link("events", event.stripe_id)

    @admin.display(description="quoi", ordering="type")
    def what(self, event: StripeEvent) -> str:
        return wording.event_label(event.type)

    @admin.display(description="ce qui s'est passé", ordering="outcome")
    def result(self, event: StripeEvent) -> str:
        return wording.event_result(event)

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
            said = wording.outcome_text(result.detail)
            detail = f" ({said})" if said else ""
            level = messages.ERROR if result.outcome == "failed" else messages.SUCCESS
            self.message_user(request, f"{event.stripe_id} : {label}{detail}.", level)
