import secrets

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

SHOPPER_KEY = "shopper"


def shopper_id(session: SessionBase) -> str:
    """An anonymous id for this shopper, created on first use and kept in the session.

    Orders carry it, so the shop recognises the shopper's own checkout (the same cart
    clicked twice, a piece held for them) without storing the session key anywhere.
    """
    if SHOPPER_KEY not in session:
        session[SHOPPER_KEY] = secrets.token_urlsafe(16)
    return session[SHOPPER_KEY]


class Cart:
    """The shopper's cart: product ids in the session, nothing else.

    Prices and availability always come from the database; a piece is in the
    cart at most once.
    """

    SESSION_KEY = "cart"

    def __init__(self, session: SessionBase) -> None:
        self.session = session

    @property
    def product_ids(self) -> list[int]:
        return list(self.session.get(self.SESSION_KEY, []))

    def __len__(self) -> int:
        return len(self.product_ids)

    def __contains__(self, product_id: int) -> bool:
        return product_id in self.product_ids

    def add(self, product_id: int) -> None:
        # The shopper's id is set with the first piece, not by Commander: two clicks on
        # Commander at once read the session before either saves it, and must agree on it.
        shopper_id(self.session)
        if product_id not in self:
            self._save([*self.product_ids, product_id])

    def remove(self, *product_ids: int) -> None:
        self._save([pk for pk in self.product_ids if pk not in product_ids])

    def keep_only(self, product_ids: set[int]) -> None:
        """Drop ids that are not in `product_ids` (pieces deleted meanwhile)."""
        self._save([pk for pk in self.product_ids if pk in product_ids])

    def _save(self, product_ids: list[int]) -> None:
        if product_ids != self.product_ids:
            self.session[self.SESSION_KEY] = product_ids


def cart_count(request: HttpRequest) -> int:
    """The number of pieces in the visitor's cart, for the header: the context processor's
    and the cached pages' cart link. A visitor without a session cookie costs no query and
    gets no session; the response says it varies on Cookie, as it does."""
    return len(Cart(request.session))
