"""On Postgres, the database itself refuses UPDATE and DELETE on the audit trail, so not even a
bug or a shell session through the application's account can rewrite history."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION zhongdu_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'zhongdu_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER zhongdu_auditevent_append_only
    BEFORE UPDATE OR DELETE ON zhongdu_auditevent
    FOR EACH ROW EXECUTE FUNCTION zhongdu_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS zhongdu_auditevent_append_only ON zhongdu_auditevent;
DROP FUNCTION IF EXISTS zhongdu_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the SQL holds a literal %


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("zhongdu", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
