from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save


def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no `unaccent`: the catalogue's search folds text with Python's own."""
    if connection.vendor == "sqlite":
        from products.selectors import fold

        connection.connection.create_function("boutique_fold", 1, fold, deterministic=True)


def _piece_changed(sender, using, **kwargs) -> None:
    from products import stock_version

    stock_version.changed(using)


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from django.contrib.flatpages.models import FlatPage

        from products.models import pieces_written
        from products.pages import page_changed
        from products.photos import register_formats

        register_formats()
        connection_created.connect(_register_sqlite_functions, dispatch_uid="boutique_fold")
        # The owner's pages: the footer of every page lists them.
        post_save.connect(page_changed, sender=FlatPage, dispatch_uid="pages-save")
        post_delete.connect(page_changed, sender=FlatPage, dispatch_uid="pages-delete")
        # A piece saved (name, price, photo, stock), deleted, or written in bulk (querysets'
        # update and bulk_create) changes the stock version (products/stock_version.py). So
        # do a piece's other photos and the categories: cached pages show them
        # (products/page_cache.py).
        pieces_written.connect(
            _piece_changed, sender=self.get_model("Product"), dispatch_uid="version-bulk-Product"
        )
        for model in ("Product", "ProductImage", "Category"):
            sender = self.get_model(model)
            post_save.connect(_piece_changed, sender=sender, dispatch_uid=f"version-save-{model}")
            post_delete.connect(
                _piece_changed, sender=sender, dispatch_uid=f"version-delete-{model}"
            )
