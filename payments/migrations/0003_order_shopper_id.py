from django.db import migrations, models


class Migration(migrations.Migration):
    """Orders recognise their shopper by an anonymous id kept in the session, not by the
    session key itself."""

    dependencies = [
        ("payments", "0002_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="order", old_name="session_key", new_name="shopper_id"),
        migrations.AlterField(
            model_name="order",
            name="shopper_id",
            field=models.CharField(
                blank=True, db_index=True, max_length=40, verbose_name="client (anonyme)"
            ),
        ),
    ]
