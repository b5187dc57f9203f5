import django.utils.timezone
import products.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0007_pages_markup_and_addresses"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="condition",
            field=models.CharField(
                choices=[("neuf", "Neuf"), ("occasion", "Occasion"), ("vintage", "Vintage")],
                default=products.models.default_condition,
                help_text="« Neuf » : une création jamais utilisée. « Occasion » ou « Vintage » : une pièce qui a déjà servi. Annoncé tel quel aux moteurs de recherche.",
                max_length=10,
                verbose_name="état",
            ),
        ),
        migrations.AddField(
            model_name="category",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, default=django.utils.timezone.now, verbose_name="modifiée le"
            ),
            preserve_default=False,
        ),
    ]
