"""The owner's pages in light markup, all under /pages/.

- A legal page still holding the HTML draft of migration 0005, untouched, gets the same draft
  in the markup the admin now takes (templates/pages/drafts/). A page the owner edited keeps
  its text: HTML still renders (products/pages.py).
- A page created at another address (« /a-propos/ », as the admin once suggested) was never
  served: it moves to /pages/<slug>/ (« /pages/a-propos/ »), unless a page is there already.
"""

import hashlib

from django.db import migrations

# sha256 of each HTML draft as migration 0005 wrote it.
HTML_DRAFTS = {
    "/pages/mentions-legales/": "1a0bc659384ded91f2634a34a7c238310cefd1b3c51d7db89810ed6772b49d4a",
    "/pages/cgv/": "7dd29a4cb21102d36f4ee956a8581acde6269c8988c261556ddee5aff284a8c1",
    "/pages/confidentialite/": "9a3efa30457f0be140586a71441d128e5b0caca320d1a6ca6ed61285c9b630dc",
    "/pages/livraison-retours/": "4fd4d76a71520f99887061b1cd1a088a971625466bcdbb90b883f5f9848ce3b2",
}


def forwards(apps, schema_editor):
    from products.legal import LEGAL_PAGES
    from products.pages import PREFIX, free_slug

    FlatPage = apps.get_model("flatpages", "FlatPage")
    drafts = {page.url: page.content for page in LEGAL_PAGES}
    for page in FlatPage.objects.filter(url__in=list(HTML_DRAFTS)):
        if hashlib.sha256(page.content.strip().encode()).hexdigest() == HTML_DRAFTS[page.url]:
            page.content = drafts[page.url]
            page.save(update_fields=["content"])
    taken = set(FlatPage.objects.values_list("url", flat=True))
    for page in FlatPage.objects.exclude(url__startswith=PREFIX).order_by("pk"):
        slug = free_slug(page.url.strip("/").replace("/", "-") or page.title, taken)
        page.url = f"{PREFIX}{slug}/"
        taken.add(page.url)
        page.save(update_fields=["url"])


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0006_product_held_until_index"),
        ("flatpages", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
