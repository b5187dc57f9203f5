from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    """Values every page needs: the stock polling interval."""
    return {"stock_poll_seconds": settings.STOCK_POLL_SECONDS}
