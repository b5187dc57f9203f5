"""PostgreSQL restarted under the shop (maintenance, failover): once it answers again, no
request answers 5xx because its kept connection died (SPEC §4, §13). And the cached answers
(the stock poll's early path, the pages kept in Redis) do not touch the database at all: the
connection's health check costs them nothing."""

import pytest
import redis

from shop.tests.faults.conftest import report

pytestmark = pytest.mark.faults

REDIS_URL = "redis://127.0.0.1:6379/2"


def test_a_database_restart_costs_no_request_an_error(make_shop, postgres):
    shop = make_shop(CONN_MAX_AGE="600")
    slugs = [row[0] for row in postgres.query("SELECT slug FROM products_product LIMIT 6")]
    pages = ["/", "/?tri=prix"] + [f"/produits/{slug}/" for slug in slugs]
    for _ in range(3):  # every worker holds a connection
        assert {shop.get(page).status_code for page in pages} == {200}

    postgres.restart()
    statuses = [shop.get(page).status_code for page in pages * 4]

    errors = [status for status in statuses if status >= 500]
    report("database restart", requests=len(statuses), errors_5xx=len(errors))
    assert errors == []


@pytest.fixture
def shared_redis():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379") if not __import__("os").environ.get(
            "CI"
        ) else pytest.fail("Redis at 127.0.0.1:6379 is required in CI")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


def test_cached_answers_run_no_statement_even_with_health_checks(make_shop, postgres, shared_redis):
    shop = make_shop(CACHE_URL=shared_redis, CONN_MAX_AGE="600")
    ids = ",".join(str(row[0]) for row in postgres.query("SELECT id FROM products_product"))
    slug = postgres.query("SELECT slug FROM products_product LIMIT 1")[0][0]
    urls = [f"/api/products?ids={ids}", "/", f"/produits/{slug}/"]
    for _ in range(8):  # every worker has read and cached them
        assert {shop.get(url).status_code for url in urls} == {200}

    before = postgres.statements()
    for _ in range(25):
        assert {shop.get(url).status_code for url in urls} == {200}
    after = postgres.statements()

    report("cached paths", requests=75, statements_on_postgresql=after - before)
    assert after == before  # not even the health check's SELECT 1
