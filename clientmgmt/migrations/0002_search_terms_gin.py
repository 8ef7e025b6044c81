"""On Postgres, a GIN full-text index over the client's search tokens (clientmgmt.search)."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS client_search_terms_gin ON clientmgmt_client "
    "USING gin (to_tsvector('simple'::regconfig, search_terms))"
)
DROP = "DROP INDEX IF EXISTS client_search_terms_gin"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("clientmgmt", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
