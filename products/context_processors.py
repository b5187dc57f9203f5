from django.http import HttpRequest

from products.pages import footer_pages


def pages(request: HttpRequest) -> dict:
    """The owner's pages for every footer, read only if the page shows them."""
    return {"footer_pages": footer_pages}
