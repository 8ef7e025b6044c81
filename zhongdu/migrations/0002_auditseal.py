from django.db import migrations, models

# Hand-written: on Postgres the seals refuse UPDATE and DELETE like the audit trail they seal.
# The one trigger function of 0001 now names the table it guards, so both tables share it.
SEAL_TRIGGER_CREATE = """
CREATE OR REPLACE FUNCTION zhongdu_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER zhongdu_auditseal_append_only
    BEFORE UPDATE OR DELETE ON zhongdu_auditseal
    FOR EACH ROW EXECUTE FUNCTION zhongdu_audit_append_only();
"""
SEAL_TRIGGER_DROP = """
DROP TRIGGER IF EXISTS zhongdu_auditseal_append_only ON zhongdu_auditseal;
CREATE OR REPLACE FUNCTION zhongdu_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'zhongdu_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def seal_trigger_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEAL_TRIGGER_CREATE, params=None)  # the SQL holds a literal %


def seal_trigger_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEAL_TRIGGER_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("zhongdu", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_audit_id", models.BigIntegerField(verbose_name="first audit id")),
                ("last_audit_id", models.BigIntegerField(verbose_name="last audit id")),
                ("row_count", models.PositiveIntegerField(verbose_name="rows")),
                ("digest", models.CharField(max_length=64, verbose_name="digest")),
                (
                    "previous_digest",
                    models.CharField(blank=True, max_length=64, verbose_name="previous digest"),
                ),
                ("key_id", models.CharField(max_length=16, verbose_name="key id")),
                ("sealed_at", models.DateTimeField(verbose_name="sealed at")),
                ("row_macs", models.BinaryField(verbose_name="row MACs")),
            ],
            options={
                "verbose_name": "audit seal",
                "verbose_name_plural": "audit seals",
                "ordering": ["first_audit_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("previous_digest",), name="auditseal_previous_unique"
                    ),
                    models.UniqueConstraint(
                        fields=("first_audit_id",), name="auditseal_first_id_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("first_audit_id__lte", models.F("last_audit_id")), ("row_count__gt", 0)
                        ),
                        name="auditseal_range_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(seal_trigger_create, seal_trigger_drop),
    ]
