"""Indexes for the web customer list (search, filters, sorting), checked with EXPLAIN on 1M
customers. The GIN index on tags is PostgreSQL only: SQLite has no GIN, and the list filters
tags there with a LIKE over the JSON text instead. It is created here rather than in
``Customer.Meta.indexes`` so that a table rebuild on SQLite never tries to create it.
"""

from django.db import migrations, models

TAGS_GIN = "customer_tags_gin_idx"


def tags_gin_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TAGS_GIN} ON customers_customer "
            "USING gin (tags jsonb_path_ops)"
        )


def tags_gin_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TAGS_GIN}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        # (name, external_id) serves sorting by name and equality on name; the pattern index
        # serves name prefixes on any collation. Together they replace the index on name.
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_name_idx",
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["name", "external_id"], name="customer_name_sort_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["name"], name="customer_name_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["acquisition_channel"], name="customer_channel_idx"),
        ),
        # The consent filter reads (channel, granted, customer) from the index alone.
        migrations.RemoveIndex(
            model_name="consent",
            name="consent_channel_idx",
        ),
        migrations.AddIndex(
            model_name="consent",
            index=models.Index(
                fields=["channel", "granted", "customer"], name="consent_channel_customer_idx"
            ),
        ),
        migrations.RunPython(tags_gin_create, tags_gin_drop, elidable=False),
    ]
