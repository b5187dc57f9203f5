"""The key of the buyer's order page (SPEC §6, §12): the order's reference signed with
`django.core.signing` under a salt of its own. No login: whoever holds the link from the
buyer's e-mails sees the order, its invoice and its credit notes; a token that does not
verify is a 404. Pure: no database."""

from django.core import signing

ORDER_PAGE_SALT = "payments.order-page"


def order_token(reference: str) -> str:
    return signing.dumps(reference, salt=ORDER_PAGE_SALT, compress=False)


def reference_from_token(token: str) -> str | None:
    """The order reference a token was made for, or None when it does not verify."""
    try:
        reference = signing.loads(token, salt=ORDER_PAGE_SALT)
    except signing.BadSignature:
        return None
    return reference if isinstance(reference, str) else None
