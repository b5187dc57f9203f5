"""The shop's legal pages: French drafts the owner completes in the admin (flatpages).

The drafts are files, `templates/pages/drafts/<slug>.md`, in the light markup the admin
takes (products/pages.py). Each holds placeholders in square brackets (« [Raison sociale] »,
« [SIRET] »…) for what only the owner knows. The drafts follow French law for a shop
selling to consumers at a distance (Code de la consommation, LCEN, RGPD); the owner, not the
software, answers for what they finally say.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


@dataclass(frozen=True)
class LegalPage:
    slug: str
    title: str

    @property
    def url(self) -> str:
        return f"/pages/{self.slug}/"

    @property
    def content(self) -> str:
        """The draft, as the owner finds it in the admin the first time."""
        return render_to_string(f"pages/drafts/{self.slug}.md").strip()


# Their addresses are fixed: the footer, the CGV box and the drafts link to them.
LEGAL_PAGES: list[LegalPage] = [
    LegalPage("mentions-legales", "Mentions légales"),
    LegalPage("cgv", "Conditions générales de vente"),
    LegalPage("confidentialite", "Confidentialité"),
    LegalPage("livraison-retours", "Livraison et retours"),
]
LEGAL_URLS = frozenset(page.url for page in LEGAL_PAGES)


def create_legal_pages(*, flatpage_model: Any = None, site_model: Any = None) -> int:
    """Create the legal pages that are missing (never overwrites the owner's text).

    Takes the models so that a data migration can pass its historical ones. Returns how
    many pages were created.
    """
    if flatpage_model is None or site_model is None:
        from django.contrib.flatpages.models import FlatPage
        from django.contrib.sites.models import Site

        flatpage_model, site_model = FlatPage, Site
    # The site is usually created after all migrations; the pages need it now.
    site, _ = site_model.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"domain": "example.com", "name": "example.com"}
    )
    created = 0
    for page in LEGAL_PAGES:
        flatpage, was_created = flatpage_model.objects.get_or_create(
            url=page.url, defaults={"title": page.title, "content": page.content}
        )
        if was_created:
            flatpage.sites.add(site)
            created += 1
    return created
