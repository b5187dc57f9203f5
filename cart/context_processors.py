from django.http import HttpRequest

from cart.cart import Cart


def cart(request: HttpRequest) -> dict:
    """The number of pieces in the cart, for the header."""
    return {"cart_count": len(Cart(request.session))}
