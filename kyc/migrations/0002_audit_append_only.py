"""On PostgreSQL the audit table refuses UPDATE, DELETE and TRUNCATE, whoever asks.

SQLite has no statement-level TRUNCATE and no way to stop a determined writer of the file; there the
hash chain (``manage.py audit_verify``) is the control.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION kyc_audit_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'kyc_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER kyc_audit_no_update_delete BEFORE UPDATE OR DELETE ON kyc_auditevent
    FOR EACH ROW EXECUTE FUNCTION kyc_audit_forbid_change();
CREATE TRIGGER kyc_audit_no_truncate BEFORE TRUNCATE ON kyc_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION kyc_audit_forbid_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS kyc_audit_no_truncate ON kyc_auditevent;
DROP TRIGGER IF EXISTS kyc_audit_no_update_delete ON kyc_auditevent;
DROP FUNCTION IF EXISTS kyc_audit_forbid_change();
"""


def _run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: the SQL has a literal %

    return apply


class Migration(migrations.Migration):
    dependencies = [("kyc", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
