from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no `unaccent`: the catalogue's search folds text with Python's own."""
    if connection.vendor == "sqlite":
        from products.selectors import fold

        connection.connection.create_function("boutique_fold", 1, fold, deterministic=True)


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        connection_created.connect(_register_sqlite_functions, dispatch_uid="boutique_fold")
