"""What compressing pages costs: CPU per page with and without gzip, and the bytes saved.

    TEST_CACHE_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/compression.py [--requests 1000]

Builds a throwaway database (see harness.py) with 1,000 pieces in five categories, then,
for the catalogue and a product page, measures the process CPU time per request through
Django's test client (the whole middleware stack, the page cache when TEST_CACHE_URL names
a Redis database), alternating rounds without and with `Accept-Encoding: gzip`; and the
compression middleware alone on the page's HTML: the shop's (level 1, shop/compression.py)
and Django's (level 6). Prints the best round of each (the least disturbed
by other work on the machine) and the sizes. A quick companion to `make bench`, which
measures the shop under gunicorn.
"""

import argparse
import sys
import time
from decimal import Decimal

from harness import throwaway_database

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def cpu_ms(run, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        run()
    return (time.process_time() - started) / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    args = parser.parse_args()

    with throwaway_database("boutique-compression-") as vendor:
        from django.conf import settings
        from django.core.cache import cache
        from django.http import HttpResponse
        from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
        from django.test import Client, RequestFactory

        from products import stock_version
        from products.models import Category, Product
        from shop.compression import GZipMiddleware

        settings.ALLOWED_HOSTS = ["testserver"]
        cache.clear()
        categories = [
            Category.objects.create(name=f"Catégorie {n}", slug=f"categorie-{n}") for n in range(5)
        ]
        Product.objects.bulk_create(
            Product(
                name=f"Pièce remarquable n° {n}",
                slug=f"piece-{n}",
                price=Decimal("10.00") + n,
                description="Une pièce unique, patinée, d'époque. " * 3,
                image=f"products/piece-{n}.jpg",
                category=categories[n % 5],
            )
            for n in range(1000)
        )
        print(
            f"{vendor}, page cache {'on' if stock_version.shared() else 'off (no TEST_CACHE_URL)'}"
        )
        client = Client()
        middlewares = {
            "shop's": GZipMiddleware(lambda request: HttpResponse()),
            "Django's": DjangoGZipMiddleware(lambda request: HttpResponse()),
        }
        gzip_request = RequestFactory().get("/", headers=GZIP)
        for path in ("/", "/produits/piece-500/"):
            for _ in range(50):  # warm: the page cached, templates loaded
                client.get(path)
                client.get(path, headers=GZIP)
            plain, compressed = [], []
            for _ in range(args.rounds):
                plain.append(cpu_ms(lambda p=path: client.get(p), args.requests))
                compressed.append(cpu_ms(lambda p=path: client.get(p, headers=GZIP), args.requests))
            html = client.get(path).content
            size = len(client.get(path, headers=GZIP).content)
            bare = cpu_ms(lambda h=html: HttpResponse(h), args.requests)
            alone = {
                name: cpu_ms(
                    lambda m=m, h=html: m.process_response(gzip_request, HttpResponse(h)),
                    args.requests,
                )
                - bare
                for name, m in middlewares.items()
            }
            print(
                f"{path}: {len(html):,} B -> {size:,} B gzipped; CPU per request "
                f"{min(plain):.3f} ms plain, {min(compressed):.3f} ms gzipped "
                f"(+{min(compressed) - min(plain):.3f} ms); middleware alone: "
                + ", ".join(f"{name} {ms:.3f} ms" for name, ms in alone.items())
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
