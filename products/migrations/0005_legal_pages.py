"""The legal pages (mentions légales, CGV, confidentialité, livraison et retours) as
French drafts with placeholders, editable in the admin. Existing pages are kept."""

from django.db import migrations


def create_pages(apps, schema_editor):
    from products.legal import create_legal_pages

    create_legal_pages(
        flatpage_model=apps.get_model("flatpages", "FlatPage"),
        site_model=apps.get_model("sites", "Site"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0004_french_unaccent_search"),
        ("flatpages", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [
        migrations.RunPython(create_pages, migrations.RunPython.noop, elidable=False),
    ]
