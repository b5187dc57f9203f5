"""Carriers from a list (payments/carriers.py): orders shipped before it keep theirs; the
Stripe ids' labels in the owner's words.

A free-text carrier that names a listed one (« Colissimo », « La Poste colissimo »,
« mondial relay », « DHL Express »...) becomes that carrier, and gets the tracking link
built from its number unless the owner had pasted one; any other name becomes « autre »
with the name as she typed it, and keeps its link. Going back restores the names.
"""

from django.db import migrations, models


def carriers_from_names(apps, schema_editor):
    from payments.carriers import Carrier, carrier_of, tracking_url

    Order = apps.get_model("payments", "Order")
    for order in Order.objects.exclude(carrier="").exclude(carrier__in=Carrier.values):
        name = order.carrier
        order.carrier = carrier_of(name)
        if order.carrier == Carrier.OTHER:
            order.other_carrier = name.strip()[:100]
        elif not order.tracking_url and order.tracking_number:
            address = (order.shipping_address or {}).get("address") or {}
            number = "".join(order.tracking_number.split()).upper()
            order.tracking_url = tracking_url(
                order.carrier, number, postal_code=address.get("postal_code") or ""
            )
        order.save(update_fields=["carrier", "other_carrier", "tracking_url"])


def names_from_carriers(apps, schema_editor):
    from payments.carriers import Carrier

    Order = apps.get_model("payments", "Order")
    labels = dict(Carrier.choices)
    for order in Order.objects.exclude(carrier=""):
        if order.carrier == Carrier.OTHER:
            order.carrier = order.other_carrier or labels[Carrier.OTHER]
        else:
            order.carrier = labels.get(order.carrier, order.carrier)
        order.save(update_fields=["carrier"])


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0010_order_after_sale"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="other_carrier",
            field=models.CharField(blank=True, max_length=100, verbose_name="nom du transporteur"),
        ),
        migrations.AlterField(
            model_name="order",
            name="carrier",
            field=models.CharField(
                blank=True,
                choices=[
                    ("colissimo", "Colissimo"),
                    ("chronopost", "Chronopost"),
                    ("mondial_relay", "Mondial Relay"),
                    ("lettre_suivie", "La Poste – Lettre suivie"),
                    ("dhl", "DHL"),
                    ("ups", "UPS"),
                    ("autre", "Autre transporteur"),
                ],
                max_length=100,
                verbose_name="transporteur",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="stripe_session_id",
            field=models.CharField(
                blank=True,
                max_length=255,
                null=True,
                unique=True,
                verbose_name="session de paiement Stripe",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="stripe_payment_intent_id",
            field=models.CharField(blank=True, max_length=255, verbose_name="paiement Stripe"),
        ),
        migrations.RunPython(carriers_from_names, names_from_carriers),
    ]
