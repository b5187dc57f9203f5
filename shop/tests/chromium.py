"""Debian's Chromium for the browser tests, driven by Playwright's sync API.

Playwright cannot download its own browsers here: tests launch /usr/bin/chromium.
Without it a browser test is skipped with the reason, and fails in CI (CI=true).
"""

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# No sandbox (tests run as root), and none of Chromium's calls to Google's services:
# this machine has no network beyond its package registries.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def missing(reason: str) -> None:
    """Skip a test that needs a missing service; in CI, fail it instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run these tests)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        missing(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium")


@contextlib.contextmanager
def launched_chromium(*, extra_args: tuple[str, ...] = (), **options: Any) -> Iterator[Any]:
    """A headless Chromium for the duration of the block.

    Playwright's sync API runs an event loop in this thread, so Django's async-safety
    check would refuse the tests' ORM calls (SPEC §11): it is switched off while the
    browser runs, and restored afterwards.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*LAUNCH_ARGS, *extra_args], **options
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
