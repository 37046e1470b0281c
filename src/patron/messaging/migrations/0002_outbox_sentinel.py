"""The outbox's crash sentinel (PostgreSQL only): an UNLOGGED table, emptied when the database
server crashes, that tells recovery whether deferred claims may have been lost
(patron.messaging.dispatch). No model: only the dispatcher reads and writes it."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS messaging_outbox_sentinel "
            "(worker varchar(255) PRIMARY KEY)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS messaging_outbox_sentinel")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
