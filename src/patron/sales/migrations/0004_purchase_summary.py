"""The per-customer purchase summary, filled from the orders already there (set-based).

The backfill's SQL is a frozen copy of patron.sales.purchases (a migration does not call code
that may change after it).
"""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    spend = (
        "ROUND(SUM(ROUND(amount * 100)) / 100.0, 2)"
        if connection.vendor == "sqlite"
        else "SUM(amount)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sales_purchasesummary (customer_id, first_purchase_on, "
            "last_purchase_on, orders, spend) "
            f"SELECT customer_id, MIN(ordered_on), MAX(ordered_on), COUNT(*), {spend} "
            "FROM sales_order WHERE status IN ('completed', 'open', 'refunded') AND amount > 0 "
            "GROUP BY customer_id"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0003_search_index_saved_views'),
        ('sales', '0003_product_for_sale_in_stock'),
    ]

    operations = [
        migrations.CreateModel(
            name='PurchaseSummary',
            fields=[
                ('customer', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='purchase_summary', serialize=False, to='customers.customer')),
                ('first_purchase_on', models.DateField(verbose_name='first purchase')),
                ('last_purchase_on', models.DateField(verbose_name='last purchase')),
                ('orders', models.PositiveIntegerField(verbose_name='orders')),
                ('spend', models.DecimalField(decimal_places=2, max_digits=16, verbose_name='spend')),
            ],
            options={
                'verbose_name': 'purchase summary',
                'verbose_name_plural': 'purchase summaries',
                'indexes': [models.Index(fields=['last_purchase_on'], include=['customer'], name='purchase_summary_last_idx')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
