from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0005_legal_pages"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("held_until__isnull", False)),
                fields=["held_until"],
                name="product_held_until",
            ),
        ),
    ]
