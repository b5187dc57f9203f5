from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('stripe_offline', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='checkoutsession',
            name='phone_number_collection',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='checkoutsession',
            name='shipping_options',
            field=models.JSONField(default=list),
        ),
    ]
