"""The sales whose e-mails were still flagged on the order (`paid_mail_pending`) get them
in the outbox, as the sale would write them now; the flag goes in the next migration."""

from django.conf import settings
from django.db import migrations
from django.urls import reverse


def _admin_url(name, order):
    return settings.APP_URL + reverse(name, args=[order.pk])


def flagged_to_outbox(apps, schema_editor):
    Order = apps.get_model("payments", "Order")
    OutboxMessage = apps.get_model("payments", "OutboxMessage")
    rows = []
    for order in Order.objects.filter(paid_mail_pending=True, status="paid").order_by("pk"):
        if order.customer_email:
            rows.append(
                OutboxMessage(
                    key=f"sale:{order.reference}:buyer",
                    to=[order.customer_email],
                    subject=f"Votre commande {order.reference} est confirmée",
                    template="payments/email/order_paid",
                    order=order,
                )
            )
        if settings.OWNER_EMAIL:
            rows.append(
                OutboxMessage(
                    key=f"sale:{order.reference}:owner",
                    to=[settings.OWNER_EMAIL],
                    subject=f"Pièce vendue : commande {order.reference}",
                    template="payments/email/owner_sale",
                    order=order,
                    context={
                        "admin_url": _admin_url("admin:payments_order_change", order),
                        "packing_slip_url": _admin_url(
                            "admin:payments_order_packing_slip", order
                        ),
                    },
                )
            )
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


def outbox_to_flags(apps, schema_editor):
    """Back: the sales whose confirmation still waits are flagged again."""
    Order = apps.get_model("payments", "Order")
    OutboxMessage = apps.get_model("payments", "OutboxMessage")
    waiting = OutboxMessage.objects.filter(key__startswith="sale:", status="pending")
    Order.objects.filter(pk__in=waiting.values("order_id")).update(paid_mail_pending=True)


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_outbox")]

    operations = [migrations.RunPython(flagged_to_outbox, outbox_to_flags)]
