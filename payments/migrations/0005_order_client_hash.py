from django.db import migrations, models


class Migration(migrations.Migration):
    """Orders record a keyed hash of their client's address, so that open checkouts can be
    counted per client in the database (payments.limits)."""

    dependencies = [
        ("payments", "0004_order_shipping"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="client_hash",
            field=models.CharField(
                blank=True,
                db_index=True,
                max_length=64,
                verbose_name="empreinte de l'adresse du client",
            ),
        ),
    ]
