"""What the order and event admins share: rows only services write, links to Stripe's
dashboard, dates as the owner reads them, the order page's small tables."""

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class ServiceWrittenAdmin(admin.ModelAdmin):
    """Rows only the shop's services write: an order comes from a checkout and stays as the
    record of what was paid; an event records what Stripe sent. Nobody adds or deletes one."""

    class Media:
        css = {"all": ["css/payments-admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def stripe_dashboard_url(path: str, object_id: str) -> str:
    """The dashboard page of a Stripe object, in test or live mode after the API key.

    Empty with the offline server: its objects exist in no dashboard."""
    if not object_id or settings.STRIPE_OFFLINE:
        return ""
    mode = "test/" if settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_")) else ""
    return f"https://dashboard.stripe.com/{mode}{path}/{object_id}"


def stripe_link(path: str, object_id: str) -> str:
    if not object_id:
        return "—"
    url = stripe_dashboard_url(path, object_id)
    if not url:
        return object_id
    return format_html(
        '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, object_id
    )


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "d/m/Y H:i:s")


def own_page(model_admin: admin.ModelAdmin, view: Callable[..., Any]) -> Callable[..., Any]:
    """A page of payments/admin/views.py, behind the admin's login, given its model admin."""
    return model_admin.admin_site.admin_view(partial(view, model_admin=model_admin))


def table(
    css_class: str, headings: Sequence[str], rows: SafeString, *, empty: str = ""
) -> SafeString:
    """One of the order page's small tables: `rows` are its `<tr>`s (format_html_join); with
    none, `empty` when given, in place of the table."""
    if not rows and empty:
        return format_html("{}", empty)
    return format_html(
        '<table class="{}"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        css_class,
        format_html_join("", "<th>{}</th>", ((heading,) for heading in headings)),
        rows,
    )
