# The member notification scan's lookups: members by enrolment (welcome), lots by their last
# day (expiry reminders), redemptions by time (redemption notices).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0003_programme_points_cap'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(condition=models.Q(('is_lot', True)), fields=['expires_on'], name='ledger_lot_expiry_idx'),
        ),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['enrolled_at'], name='member_enrolled_idx'),
        ),
        migrations.AddIndex(
            model_name='redemption',
            index=models.Index(fields=['created_at'], name='redemption_created_idx'),
        ),
    ]
