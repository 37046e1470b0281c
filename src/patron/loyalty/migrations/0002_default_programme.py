"""`patron init` (migrate) creates the default programme: 1 point per currency unit, rounded
down, no pending period, no expiry, tiers off."""

from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    Programme = apps.get_model("loyalty", "Programme")
    if not Programme.objects.exists():
        Programme.objects.create()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
