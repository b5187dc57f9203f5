"""The buyer's order page, `/suivi/<token>/` (SPEC §6, §12): its token is the key.

The token is the order's reference signed with `SECRET_KEY` under a salt of its own
(`django.core.signing.Signer`): nobody reaches an order by guessing or altering a reference,
and nothing is stored. It is the same every time (no timestamp), so every e-mail about an order
carries the same link, and it never expires: the e-mails are the buyer's durable record. A
`SECRET_KEY` replaced with the old one kept in `SECRET_KEY_FALLBACKS` keeps old links working.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "payments.order-page"


def token_for(reference: str) -> str:
    return signing.Signer(salt=SALT).sign(reference)


def reference_from(token: str) -> str | None:
    """The reference a token names, or None for a token this shop did not sign."""
    try:
        return signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None


def path_for(reference: str) -> str:
    return reverse("payments:order-page", args=[token_for(reference)])


def url_for(reference: str) -> str:
    """The page's address as e-mails carry it, on `APP_URL`."""
    return settings.APP_URL + path_for(reference)
