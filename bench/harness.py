"""What the benchmarks share: a throwaway database under the test settings, and p95.

Scripts in bench/ run as `.venv/bin/python bench/<name>.py`; this module sits beside them.
"""

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(workdir: Path) -> None:
    """Test settings (test secrets, plain static storage) on a throwaway database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.tests.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["MEDIA_ROOT"] = str(workdir / "media")

    import django

    django.setup()


def create_database() -> Callable[[], None]:
    """Create and migrate the throwaway database (`test_<name>` beside $DATABASE_URL's,
    never that database itself); return what destroys it."""
    from django.db import connection

    if connection.vendor == "sqlite":
        # A file, as in production, that a gunicorn worker can open too.
        test_settings = connection.settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = connection.settings_dict["NAME"]
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(old_name, verbosity=0)


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """Set Django up on a fresh, migrated database for the block; destroy it (and the
    temporary folder holding its files) afterwards. Yields the database vendor."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        configure(workdir)
        from django.db import connection

        destroy = create_database()
        try:
            yield connection.vendor
        finally:
            connection.close()
            destroy()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
