"""Security behaviour a browser sees: headers, CSP, HTTPS redirect, offline routes, lockout."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from products.models import Product

LOGIN_URL = reverse("admin:login")


def csp_directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def product(db) -> Product:
    return Product.objects.create(
        name="Vase bleu", slug="vase-bleu", description="Un vase.", price=Decimal("42.00")
    )


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_superuser(
        "proprietaire", "proprietaire@example.com", "un mot de passe solide 42"
    )


@pytest.mark.parametrize(
    "path", ["/", "/produits/vase-bleu/", "/panier/", LOGIN_URL, "/api/products?ids=1,2"]
)
def test_pages_carry_the_security_headers(client, product, path):
    """Shop pages, the admin login and the stock API (answered before most middleware, see
    products/middleware.py): CSP, no framing, no sniffing, same-origin referrer."""
    response = client.get(path, secure=True)

    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert int(response["Content-Length"]) == len(response.content)
    # django-permissions-policy (SPEC §13): no browser feature the shop does not use.
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "geolocation=()", "microphone=()", "payment=()", "usb=()"):
        assert feature in policy


def test_permissions_policy_on_static_files_and_errors(client, product):
    for path in ("/static/css/shop.css", "/produits/introuvable/", "/healthz"):
        response = client.get(path, secure=True)
        assert "camera=()" in response["Permissions-Policy"], path


@pytest.mark.parametrize("path", ["/", LOGIN_URL])
def test_content_security_policy_allows_this_origin_only(client, product, path):
    """Scripts, styles and requests from this origin only, never inline; no framing;
    forms may go to this origin and, through checkout's 303, to Stripe Checkout."""
    directives = csp_directives(client.get(path, secure=True))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"][0] == "'self'"
    assert all(source.startswith("'sha256-") for source in directives["style-src"][1:])
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == [
        "'self'",
        "https://boutique.test",
        "https://checkout.stripe.com",
    ]
    header = client.get(path, secure=True)["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header


def test_shop_pages_have_no_inline_script_or_style(client, product):
    """What the policy refuses is not in the markup: scripts are files, styles are classes."""
    for path in ["/", "/produits/vase-bleu/", "/panier/"]:
        html = client.get(path).content.decode()
        assert "<script>" not in html
        assert "<script src=" in html, path
        assert " style=" not in html, path
        assert "<style" not in html, path
        assert " onclick=" not in html, path


def test_the_admin_inline_style_hash_matches_djangos_template():
    """The one inline <style> of Django's admin (change list without actions) is the block
    whose hash the policy carries: rendered, it hashes to the same value."""
    import base64
    import hashlib
    import re
    from pathlib import Path

    import django
    from django.conf import settings

    template = Path(django.__file__).parent / "contrib/admin/templates/admin/change_list.html"
    blocks = re.findall(r"<style>(.*?)</style>", template.read_text(), re.DOTALL)
    assert len(blocks) == 1
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    style_src = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    assert f"'sha256-{digest}'" in style_src


def test_plain_http_is_redirected_to_https_but_not_the_health_check(client, db, settings):
    """Behind the platform's proxy: plain HTTP → 301 to HTTPS; X-Forwarded-Proto: https is
    trusted; /healthz answers over plain HTTP so the platform's checks work."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client()

    redirected = client.get("/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/"

    assert client.get("/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.content == b"ok"


def test_offline_stripe_routes_are_404_when_offline_mode_is_off(client, db, settings):
    """The simulated Stripe server answers only while STRIPE_OFFLINE is on, read per request."""
    settings.STRIPE_OFFLINE = True
    assert client.post("/_stripe/v1/checkout/sessions").status_code == 401  # there, wants a key

    settings.STRIPE_OFFLINE = False
    for method, path in [
        ("post", "/_stripe/v1/checkout/sessions"),
        ("get", "/_stripe/v1/checkout/sessions/cs_test_1"),
        ("get", "/_stripe/pay/cs_test_1/"),
        ("post", "/_stripe/pay/cs_test_1/payer/"),
    ]:
        assert getattr(client, method)(path).status_code == 404, path


def test_admin_is_served_under_admin_url(client, owner, settings):
    """ADMIN_URL (default admin/) is where the admin lives; the owner reaches its index."""
    assert settings.ADMIN_URL == "admin/"
    assert LOGIN_URL == "/admin/login/"
    client.force_login(owner)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Gérer la boutique" in response.content.decode()


def _fail_login(client: Client, **headers: str):
    return client.post(
        LOGIN_URL,
        {"username": "proprietaire", "password": "pas le bon", "next": "/admin/"},
        headers=headers,
    )


def _login(client: Client, **headers: str):
    return client.post(
        LOGIN_URL,
        {"username": "proprietaire", "password": "un mot de passe solide 42", "next": "/admin/"},
        headers=headers,
    )


def test_admin_login_locks_out_after_repeated_failures(owner, settings):
    """After AXES_FAILURE_LIMIT failures from one address, even the right password is refused
    there (429, a French page); the owner can still log in from another address."""
    attacker = Client(REMOTE_ADDR="81.2.69.142")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _fail_login(attacker).status_code == 200  # the form again, with its error

    locked = _fail_login(attacker)
    assert locked.status_code == 429
    assert "Connexion temporairement bloquée" in locked.content.decode()
    assert _login(attacker).status_code == 429

    elsewhere = _login(Client(REMOTE_ADDR="81.2.69.160"))
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/admin/"


def test_lockout_uses_the_address_the_proxy_appended(owner, settings):
    """Behind the router, the client is the last X-Forwarded-For entry: an attacker varying
    the entries it writes itself is still locked out; another client is not."""
    router = {"REMOTE_ADDR": "10.1.2.3"}
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = _fail_login(
            Client(**router), **{"X-Forwarded-For": f"192.0.2.{attempt}, 81.2.69.142"}
        )
    assert response.status_code == 429

    assert _login(Client(**router), **{"X-Forwarded-For": "81.2.69.142"}).status_code == 429
    other = _login(Client(**router), **{"X-Forwarded-For": "81.2.69.160"})
    assert other.status_code == 302


def test_a_successful_login_resets_the_failure_count(owner, settings):
    """A few typos do not add up across the day: a success clears them."""
    client = Client(REMOTE_ADDR="81.2.69.142")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail_login(client)
    assert _login(client).status_code == 302

    client = Client(REMOTE_ADDR="81.2.69.142")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _fail_login(client).status_code == 200


def test_the_stock_api_refuses_a_host_not_allowed(client, db):
    """Answered before CommonMiddleware, the stock API still checks ALLOWED_HOSTS."""
    response = client.get("/api/products", {"ids": "1"}, headers={"host": "evil.example.com"})

    assert response.status_code == 400


def test_the_policy_built_once_is_django_csps(rf):
    """The header every response gets is the one django-csp would build for it."""
    from csp.utils import build_policy

    from shop.middleware import csp_headers

    assert dict(csp_headers()) == {"Content-Security-Policy": build_policy()}


def test_a_response_with_its_own_policy_still_goes_through_django_csp(rf):
    from django.http import HttpResponse

    from shop.middleware import CSPMiddleware

    def view(request):
        response = HttpResponse("ok")
        response._csp_update = {"img-src": ["https://images.example.com"]}
        return response

    response = CSPMiddleware(view)(rf.get("/"))

    assert "https://images.example.com" in response["Content-Security-Policy"]
