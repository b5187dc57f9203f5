"""The project's own names for Django's apps: the admin on the shop's site (shop/admin_site.py),
and the owner's pages (django.contrib.flatpages) under a name she reads."""

from django.contrib.admin.apps import AdminConfig
from django.contrib.flatpages.apps import FlatPagesConfig


class ShopAdminConfig(AdminConfig):
    default_site = "shop.admin_site.ShopAdminSite"


class PagesConfig(FlatPagesConfig):
    verbose_name = "Pages du site"
