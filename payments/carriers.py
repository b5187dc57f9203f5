"""Who carries a parcel, and the public page where its buyer follows it.

Pure: Django's choices and the error module, nothing else. The owner picks a carrier in the
shipment form and types the number; the shop builds the tracking link from the carrier's
public tracking page, so that the buyer's « Suivre le colis » always leads to the parcel.
« Autre » (a carrier not in the list) keeps the owner's name for it and the link she pastes.

Tracking pages (public, no account), checked on each carrier's site:
- La Poste (Colissimo, Lettre suivie): laposte.fr « Suivre un envoi », `?code=<number>`;
- Chronopost: `tracking-no-cms/suivi-page?listeNumerosLT=<number>`;
- Mondial Relay: `suivi-de-colis/?numeroExpedition=<number>&codePostal=<postal code>` (its
  8-digit numbers are only found with the recipient's postal code, which the order has);
- DHL: `tracking-parcel.html?tracking-id=<number>`; UPS: `track?tracknum=<number>`.
"""

import re
import unicodedata
from urllib.parse import urlencode

from django.db import models

from payments.exceptions import ShipmentRefused


class Carrier(models.TextChoices):
    COLISSIMO = "colissimo", "Colissimo"
    CHRONOPOST = "chronopost", "Chronopost"
    MONDIAL_RELAY = "mondial_relay", "Mondial Relay"
    LETTRE_SUIVIE = "lettre_suivie", "La Poste – Lettre suivie"
    DHL = "dhl", "DHL"
    UPS = "ups", "UPS"
    OTHER = "autre", "Autre transporteur"


# Each carrier's tracking page and the query it takes: {number}, {postal_code}.
TRACKING_PAGES: dict[str, tuple[str, dict[str, str]]] = {
    Carrier.COLISSIMO: ("https://www.laposte.fr/outils/suivre-vos-envois", {"code": "{number}"}),
    Carrier.LETTRE_SUIVIE: (
        "https://www.laposte.fr/outils/suivre-vos-envois",
        {"code": "{number}"},
    ),
    Carrier.CHRONOPOST: (
        "https://www.chronopost.fr/tracking-no-cms/suivi-page",
        {"listeNumerosLT": "{number}", "langue": "fr"},
    ),
    Carrier.MONDIAL_RELAY: (
        "https://www.mondialrelay.fr/suivi-de-colis/",
        {"numeroExpedition": "{number}", "codePostal": "{postal_code}"},
    ),
    Carrier.DHL: (
        "https://www.dhl.com/fr-fr/home/tracking/tracking-parcel.html",
        {"submit": "1", "tracking-id": "{number}"},
    ),
    Carrier.UPS: ("https://www.ups.com/track", {"loc": "fr_FR", "tracknum": "{number}"}),
}

# A tracking number of a listed carrier: letters and digits (spaces typed by the owner, as
# printed on a label, are dropped).
NUMBER = re.compile(r"[A-Z0-9]{4,40}")


def tracking_url(carrier: str, number: str, *, postal_code: str = "") -> str:
    """The public tracking page of this parcel; empty for « Autre », whose link is pasted."""
    if carrier not in TRACKING_PAGES:
        return ""
    base, query = TRACKING_PAGES[carrier]
    values = {"number": number, "postal_code": "".join(postal_code.split())}
    params = {name: pattern.format(**values) for name, pattern in query.items()}
    return f"{base}?{urlencode({k: v for k, v in params.items() if v})}"


def clean_number(carrier: str, number: str) -> str:
    """The number as the carrier prints it: without spaces, in capitals for a listed
    carrier (whose numbers are letters and digits). Raises ShipmentRefused, in French."""
    if carrier == Carrier.OTHER:
        cleaned = " ".join(number.split())
    else:
        cleaned = "".join(number.split()).upper()
        if cleaned and not NUMBER.fullmatch(cleaned):
            raise ShipmentRefused(
                f"Le numéro de suivi {Carrier(carrier).label} ne contient que des lettres "
                "et des chiffres (au moins 4) : vérifiez-le sur l'étiquette."
            )
    if not cleaned:
        raise ShipmentRefused("Indiquez le numéro de suivi du colis.")
    return cleaned


def check_carrier(carrier: str) -> Carrier:
    if carrier not in Carrier.values:
        raise ShipmentRefused("Choisissez le transporteur dans la liste.")
    return Carrier(carrier)


def carrier_of(name: str) -> str:
    """The listed carrier a free-text name means (« La Poste Colissimo », « mondialrelay »,
    « DHL Express »), else « autre ». Orders shipped before the list keep their carrier this
    way (migration payments 0011)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", plain)
    joined = "".join(words)
    for needle, carrier in ALIASES:
        if needle in joined:
            return carrier
    for word, carrier in SHORT_NAMES:
        if word in words:
            return carrier
    return Carrier.OTHER


# Searched in this order inside a name without spaces or accents...
ALIASES: list[tuple[str, str]] = [
    ("colissimo", Carrier.COLISSIMO),
    ("chronopost", Carrier.CHRONOPOST),
    ("mondialrelay", Carrier.MONDIAL_RELAY),
    ("lettresuivie", Carrier.LETTRE_SUIVIE),
    ("laposte", Carrier.COLISSIMO),
]
# ... and these as words of their own (« ups » is inside too many other words).
SHORT_NAMES: list[tuple[str, str]] = [
    ("dhl", Carrier.DHL),
    ("ups", Carrier.UPS),
    ("chrono", Carrier.CHRONOPOST),
]
