"""APP_URL as production accepts it (shop/public_url.py); the start-up itself is tested in
shop/tests/test_deploy.py, in a fresh process."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from shop.public_url import check_public_app_url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "boutique.example.com",
        "ftp://boutique.example.com",
        "http://localhost:8000",
        "https://LOCALHOST.",
        "https://boutique.localhost",
        "http://127.0.0.1:8000",
        "http://127.1.2.3",
        "http://[::1]:8000",
        "http://0.0.0.0:8000",
    ],
)
def test_an_address_nobody_else_reaches_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="APP_URL"):
        check_public_app_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://boutique.example.com",
        "https://www.brocante-des-lilas.fr",
        "http://203.0.113.7",
        "https://localhost-vintage.fr",
    ],
)
def test_a_public_address_is_accepted(url):
    check_public_app_url(url)
