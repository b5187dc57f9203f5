from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    """Values every page needs: the shop's name and words, its public URL, the stock
    polling interval, the days of the right of withdrawal."""
    return {
        "shop_name": settings.SHOP_NAME,
        "shop_tagline": settings.SHOP_TAGLINE,
        "app_url": settings.APP_URL,
        "stock_poll_seconds": settings.STOCK_POLL_SECONDS,
        "withdrawal_days": settings.WITHDRAWAL_DAYS,
    }
