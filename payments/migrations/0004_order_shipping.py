from decimal import Decimal
from django.db import migrations, models


def items_total_of_earlier_orders(apps, schema_editor):
    """Orders from before shipping paid for their pieces alone: items_total = total."""
    Order = apps.get_model("payments", "Order")
    Order.objects.update(items_total=models.F("total"), shipping_cost=Decimal("0.00"))


class Migration(migrations.Migration):
    """Shipping: the order's money splits into items_total + shipping_cost = total, and
    the shipment (when, carrier, tracking) is recorded on the order."""

    dependencies = [
        ('payments', '0003_order_shopper_id'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='carrier',
            field=models.CharField(blank=True, max_length=100, verbose_name='transporteur'),
        ),
        migrations.AddField(
            model_name='order',
            name='items_total',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=10, verbose_name='pièces (€)'),
        ),
        migrations.AddField(
            model_name='order',
            name='shipped_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='expédiée le'),
        ),
        migrations.AddField(
            model_name='order',
            name='shipping_cost',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=10, verbose_name='livraison (€)'),
        ),
        migrations.AddField(
            model_name='order',
            name='tracking_number',
            field=models.CharField(blank=True, max_length=100, verbose_name='numéro de suivi'),
        ),
        migrations.AddField(
            model_name='order',
            name='tracking_url',
            field=models.URLField(blank=True, max_length=500, verbose_name='lien de suivi'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('shipped_at__isnull', True), ('status', 'paid')), fields=['paid_at'], name='order_to_ship'),
        ),
        migrations.RunPython(items_total_of_earlier_orders, migrations.RunPython.noop),
    ]
