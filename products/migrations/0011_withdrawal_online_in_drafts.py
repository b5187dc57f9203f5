"""The online withdrawal function in the legal drafts (SPEC §12, D221-5).

A CGV or « Livraison et retours » page still equal to a previous draft, untouched by the owner,
gets the new draft, which says where the function is (« Renoncer au contrat ici »,
/retractation/) with the model text of the information notice. A page the owner edited keeps
their text: the admin's dashboard tells them what to add (payments.selectors.opening_checklist).
"""

import hashlib

from django.db import migrations

# sha256 of each earlier markdown draft (templates/pages/drafts/), stripped, as migrations 0005
# and 0007 wrote them.
PREVIOUS_DRAFTS = {
    "/pages/cgv/": {
        "8f7f9e5388c0a709e35077080a16f3c9cb4372817af913e54b27a498452f171f",
        "707c49e32d5329fcfe80e9e064be9e24a7485ef085343ce8441ea191990d7d3d",
    },
    "/pages/livraison-retours/": {
        "87adf7592aaa7f16d088e65b7b731697ff2a45870310132fe5640f06f5ff8bf3",
        "5b2d101d7b17df025e335402742ec0ca43651e9eb8c556ef90bfbd3d04c1c308",
    },
}


def forwards(apps, schema_editor):
    from products.legal import LEGAL_PAGES

    FlatPage = apps.get_model("flatpages", "FlatPage")
    drafts = {page.url: page.content for page in LEGAL_PAGES}
    for page in FlatPage.objects.filter(url__in=list(PREVIOUS_DRAFTS)):
        digest = hashlib.sha256(page.content.strip().encode()).hexdigest()
        if digest in PREVIOUS_DRAFTS[page.url]:
            page.content = drafts[page.url]
            page.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0010_slug_label"),
        ("flatpages", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
