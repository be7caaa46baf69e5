"""An index on django-q2's task table for the lane broker (kyc.broker): each take looks up the first
due task of one lane, ``WHERE key = ? AND lock < ? ORDER BY lock``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kyc", "0005_document_task_queued"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunSQL(
            'CREATE INDEX IF NOT EXISTS kyc_ormq_lane_due ON django_q_ormq ("key", "lock", id)',
            "DROP INDEX IF EXISTS kyc_ormq_lane_due",
        ),
    ]
