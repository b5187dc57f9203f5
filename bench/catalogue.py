"""Catalogue benchmark: how long the shopper's pages take, and how many queries they run.

    .venv/bin/python bench/catalogue.py [--products 200] [--requests 200] [--max-seconds 60]

Builds a throwaway database (a temporary SQLite file, or `test_<name>` next to
the database of $DATABASE_URL: never the database itself), fills it with
--products pieces, then renders each page through Django's test client
(the full middleware stack, templates and context processors, no network)
--requests times. Prints median, p95 and max in milliseconds and the SQL
query count of each page. Exits 1 when a median is over its budget
(see bench/README.md). Measuring stops early, with what it has, after
--max-seconds, shared equally between the pages.
"""

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from harness import p95, throwaway_database

# Budgets for the median, in milliseconds, on a developer's machine.
BUDGET_MS = {"catalogue": 50.0, "product page": 30.0, "stock API": 15.0}


@dataclass
class Result:
    name: str
    path: str
    timings_ms: list[float]
    queries: int
    status: int

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        return p95(self.timings_ms)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200, help="pieces in the catalogue")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time limit of the measurements"
    )
    return parser.parse_args()


def fill_catalogue(count: int) -> list[int]:
    """`count` pieces, one in ten sold and one in ten held, with photos: a real-looking shop."""
    from django.utils import timezone

    from products.models import Product

    now = timezone.now()
    products = [
        Product(
            name=f"Pièce de banc d'essai n° {i}",
            slug=f"piece-banc-essai-{i}",
            description="Une pièce unique, décrite en quelques lignes. " * 4,
            price=Decimal("10.00") + i,
            image=f"products/piece-{i}.jpg",
            in_stock=i % 10 != 3,
            held_until=now + timedelta(minutes=30) if i % 10 == 7 else None,
        )
        for i in range(count)
    ]
    created = Product.objects.bulk_create(products, batch_size=500)
    return [p.pk for p in created]


def measure(client, name: str, path: str, requests: int, deadline: float) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm up: URL resolver, template cache, connection
        client.get(path)
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    query_count = len(queries)  # read now: the next request clears the log
    timings = []
    for _ in range(requests):
        if time.monotonic() > deadline and timings:
            break
        start = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
    return Result(name, path, timings, query_count, status)


def report(results: list[Result], *, products: int, vendor: str) -> bool:
    """Print the table; return True when every median is within its budget."""
    print(f"\nBoutique catalogue benchmark: {products} pieces, {vendor}, Django test client\n")
    header = f"{'page':<14} {'path':<34} {'n':>5} {'median':>8} {'p95':>8} {'max':>8} {'SQL':>4}"
    print(header)
    print("-" * len(header))
    within = True
    for r in results:
        budget = BUDGET_MS.get(r.name)
        over = budget is not None and r.median > budget
        within = within and not over and r.status == 200
        flag = f"  over budget ({budget:.0f} ms)" if over else ""
        flag += f"  HTTP {r.status}" if r.status != 200 else ""
        print(
            f"{r.name:<14} {r.path[:34]:<34} {len(r.timings_ms):>5} {r.median:>6.1f}ms "
            f"{r.p95:>6.1f}ms {max(r.timings_ms):>6.1f}ms {r.queries:>4}{flag}"
        )
    print("\nbudgets (median): " + ", ".join(f"{k} {v:.0f} ms" for k, v in BUDGET_MS.items()))
    return within


def main() -> int:
    args = parse_args()
    with throwaway_database("boutique-bench-") as vendor:
        from django.test import Client

        ids = fill_catalogue(args.products)
        client = Client(HTTP_HOST="127.0.0.1")
        first_page = ",".join(str(pk) for pk in ids[-12:])
        pages = [
            ("catalogue", "/"),
            ("catalogue p.2", "/?page=2"),
            ("product page", f"/produits/piece-banc-essai-{args.products // 2}/"),
            ("stock API", f"/api/products?ids={first_page}"),
        ]
        deadline = time.monotonic() + args.max_seconds
        results = []
        for left, (name, path) in zip(range(len(pages), 0, -1), pages, strict=True):
            # Each page gets an equal share of the time still available.
            share = max(0.0, deadline - time.monotonic()) / left
            results.append(measure(client, name, path, args.requests, time.monotonic() + share))
        ok = report(results, products=args.products, vendor=vendor)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
