"""Search that finds people (a trigram index over id, name, phone and email: pg_trgm's GIN on
PostgreSQL, an FTS5 trigram table kept by triggers on SQLite; see customers/search.py), and
the saved views of the customer list."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def search_index_create(apps, schema_editor):
    from patron.customers.search import search_index_ensure

    search_index_ensure(using=schema_editor.connection)


def search_index_drop(apps, schema_editor):
    from patron.customers.search import search_index_drop

    search_index_drop(using=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_customer_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(search_index_create, search_index_drop, elidable=False),
        migrations.CreateModel(
            name="SavedView",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=80, verbose_name="name")),
                (
                    "query",
                    models.CharField(blank=True, max_length=2000, verbose_name="filters"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_views",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "saved view",
                "verbose_name_plural": "saved views",
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "name"), name="saved_view_name_per_owner"
                    )
                ],
            },
        ),
    ]
