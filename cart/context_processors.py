from django.http import HttpRequest

from cart.cart import cart_count


def cart(request: HttpRequest) -> dict:
    """The number of pieces in the cart, for the header."""
    return {"cart_count": cart_count(request)}
