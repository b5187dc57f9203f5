"""Who sells, as the buyer's pages and e-mails name them (SPEC §4, §12). Pure: settings only.

Read at each call, so that what a page or an e-mail shows follows the settings in force when
it is rendered."""

from dataclasses import dataclass

from django.conf import settings

# The mention French law asks of a seller under the VAT franchise (Code général des impôts).
VAT_FRANCHISE = "TVA non applicable, art. 293 B du CGI"


@dataclass(frozen=True)
class Seller:
    name: str
    address: str
    siren: str
    vat_number: str
    email: str
    mediator_name: str
    mediator_url: str

    @property
    def charges_vat(self) -> bool:
        return bool(self.vat_number)

    @property
    def vat_mention(self) -> str:
        """What follows a total: « TTC » when prices include VAT, else the franchise's mention."""
        return "TTC" if self.charges_vat else VAT_FRANCHISE

    @property
    def has_mediator(self) -> bool:
        return bool(self.mediator_name or self.mediator_url)


def seller() -> Seller:
    return Seller(
        name=settings.SELLER_NAME or settings.SHOP_NAME,
        address=settings.SELLER_ADDRESS,
        siren=settings.SELLER_SIREN,
        vat_number=settings.SELLER_VAT_NUMBER,
        email=settings.SELLER_EMAIL,
        mediator_name=settings.MEDIATOR_NAME,
        mediator_url=settings.MEDIATOR_URL,
    )
