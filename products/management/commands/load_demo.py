from django.core.management.base import BaseCommand

from products.demo import load_demo_catalogue
from products.legal import create_legal_pages


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (two dozen pieces in five categories, with generated photos) "
        "and the legal pages' drafts. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the catalogue has any piece."
        )

    def handle(self, *args, if_empty: bool = False, **options) -> None:
        from products.models import Product

        pages = create_legal_pages()
        if pages:
            self.stdout.write(f"Legal pages: {pages} draft(s) created, to complete in the admin.")
        if if_empty and Product.objects.exists():
            self.stdout.write("The catalogue already has pieces: nothing loaded.")
            return
        created, existing = load_demo_catalogue()
        self.stdout.write(
            self.style.SUCCESS(f"Demo catalogue: {created} created, {existing} already there.")
        )
