"""French full-text search insensitive to accents, on PostgreSQL.

Creates the `unaccent` extension (trusted since PostgreSQL 13: the database owner may
create it) and a `french_unaccent` text search configuration: the `french` one with
`unaccent` before the French stemmer, so that "theiere" finds "Théière" and "chaise"
finds "Chaises". Other databases (SQLite) search without it: nothing to do there.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS unaccent;",
    """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN
        CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
        ALTER TEXT SEARCH CONFIGURATION french_unaccent
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
    END IF;
END
$$;
""",
]

DROP = "DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent;"


def create_configuration(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop_configuration(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0003_category_productimage"),
    ]

    operations = [
        migrations.RunPython(create_configuration, drop_configuration, elidable=False),
    ]
