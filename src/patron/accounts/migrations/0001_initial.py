from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Access",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "verbose_name": "access",
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_segments", "Can view segments"),
                    ("manage_segments", "Can manage segments"),
                    ("view_loyalty", "Can view loyalty programs"),
                    ("manage_loyalty", "Can manage loyalty programs"),
                    ("view_campaigns", "Can view campaigns"),
                    ("manage_campaigns", "Can manage campaigns"),
                    ("view_tickets", "Can view service tickets"),
                    ("manage_tickets", "Can manage service tickets"),
                    ("view_reports", "Can view reports"),
                    ("export_customers", "Can export customer lists"),
                    ("see_full_phone", "Can see full phone numbers"),
                    ("manage_settings", "Can change settings"),
                    ("manage_users", "Can manage users and roles"),
                    ("access_admin", "Can use the administration site"),
                ],
            },
        ),
    ]
