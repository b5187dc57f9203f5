"""`make run PORT=…`: the README's command, on another port, with a purchase through the
simulated Stripe, as someone trying the shop would do it."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from shop.tests.chromium import launched_chromium

pytestmark = pytest.mark.browser

BASE_DIR = Path(settings.BASE_DIR)
# What the tests' own settings put in the environment: `make run` must not inherit it.
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "STRIPE_OFFLINE",
    "STRIPE_API_BASE",
    "APP_URL",
    "CACHE_URL",
    "TEST_CACHE_URL",
    "SECURE_SSL_REDIRECT",
    "LOG_FORMAT",
    "PORT",
    "MAKEFLAGS",
    "MFLAGS",
}
STARTUP_SECONDS = 300  # a fresh database: migrations, then the demo pieces' photo sizes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run stopped ({process.returncode}):\n{log.read_text()[-3000:]}")
        started = re.search(r"Starting development server at (\S+)", log.read_text())
        if started and not url.startswith(started.group(1).rstrip("/")):
            pytest.fail(f"make run serves {started.group(1)}, not {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    pytest.fail(f"make run did not answer on {url}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def shop_on_another_port(tmp_path):
    """`make run PORT=<a free port other than 8000>` on a database of its own; its URL."""
    port = _free_port()
    assert port != 8000
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    # Given empty, these win over a developer's .env: payments are simulated.
    env |= {"STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "OWNER_EMAIL": ""}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log = tmp_path / "make-run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"VENV={sys.prefix}"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver and its reloader, stopped together below
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url + "/healthz", process, log)
        yield url, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_make_run_on_another_port_sells_through_the_simulated_stripe(shop_on_another_port):
    """Served on a port other than 8000, Commander reaches the simulated Stripe on that same
    port, Payer comes back to the shop's thank-you page, and the piece is sold."""
    url, log = shop_on_another_port
    with launched_chromium() as chromium:
        context = chromium.new_context(base_url=url, locale="fr-FR")
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto("/")
        available = page.locator(".stock[data-stock-status='available']")
        page.locator("article.card", has=available).first.locator(".card__title a").click()
        product_url = page.url
        page.get_by_role("button", name="Ajouter au panier").click()
        expect(page.get_by_text("Ajouté au panier")).to_be_visible()

        page.goto("/panier/")
        page.get_by_label("J'ai lu et j'accepte les conditions générales de vente").check()
        page.get_by_role("button", name="Commander").click()

        expect(page).to_have_url(re.compile(re.escape(f"{url}/_stripe/pay/")))
        page.get_by_role("button", name=re.compile(r"^Payer \d")).click()

        expect(page).to_have_url(re.compile(re.escape(f"{url}/commande/merci/")))
        expect(page.get_by_text("Paiement confirmé")).to_be_visible()
        page.goto(product_url)
        expect(page.locator(".stock").get_by_text("Vendu")).to_be_visible()
        context.close()
    assert "momentanément indisponible" not in log.read_text()
