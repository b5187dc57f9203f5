from django.conf import settings
from django.http import HttpRequest

from products.pages import footer_pages


def shop(request: HttpRequest) -> dict:
    """Values every page needs: the shop's name and words, its public URL, the stock
    polling interval, the owner's pages for the footer (read only if the page shows them)."""
    return {
        "shop_name": settings.SHOP_NAME,
        "shop_tagline": settings.SHOP_TAGLINE,
        "app_url": settings.APP_URL,
        "stock_poll_seconds": settings.STOCK_POLL_SECONDS,
        "footer_pages": footer_pages,
    }
