"""Drive the simulated Checkout page over real HTTP, as a shopper's browser would, from tests.

    from payments.offline.testing import submit_hosted_page

    session = client.v1.checkout.sessions.create(...)        # through the shop's code
    response = submit_hosted_page(session.url)                 # Payer (card)
    assert response.status_code == 303                        # to success_url; the shop's
                                                               # webhook has had both events
    submit_hosted_page(session.url, method="sepa_debit")       # completes unpaid
    submit_hosted_page(session.url, "transfer_succeeded")      # or "transfer_failed"
    submit_hosted_page(session.url, "cancel")                  # 303 to cancel_url

The server must be a real one (pytest-django's `live_server`, `django_db(transaction=True)`),
since the page posts the signed events to `/api/webhooks/stripe` on its own host.
"""

import re

import requests

from payments.offline.forms import DEFAULT_ADDRESS, DEFAULT_EMAIL, DEFAULT_NAME, DEFAULT_PHONE

ACTIONS = {
    "pay": "payer/",
    "cancel": "annuler/",
    "transfer_succeeded": "virement/reussi/",
    "transfer_failed": "virement/echoue/",
    "resend": "renvoyer/",
}
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def submit_hosted_page(
    url: str,
    action: str = "pay",
    *,
    method: str = "card",
    email: str = DEFAULT_EMAIL,
    country: str = "FR",
    timeout: float = 30,
) -> requests.Response:
    """GET the page at `url` (a session's `url`), then POST one of its forms with the CSRF
    token, like the browser. Redirects are not followed: Payer answers 303 to `success_url`.

    The CSRF cookie is sent by hand: with DEBUG off (pytest) it is `Secure`, which
    `requests` would not send back over plain HTTP.
    """
    page = requests.get(url, timeout=timeout)
    page.raise_for_status()
    token = _TOKEN.search(page.text)
    if token is None:
        raise AssertionError(f"No form on the simulated Checkout page {url}:\n{page.text[:2000]}")
    data = {"csrfmiddlewaretoken": token.group(1)}
    if action == "pay":
        data |= {"email": email, "name": DEFAULT_NAME, "method": method, "country": country}
        data |= {"phone": DEFAULT_PHONE}
        data |= DEFAULT_ADDRESS
    return requests.post(
        url.split("?")[0].rstrip("/") + "/" + ACTIONS[action],
        data=data,
        headers={"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
        allow_redirects=False,
        timeout=timeout,
    )
