"""Consent as its own record (clientmgmt.consent): every grant and withdrawal (ConsentEvent) and
the state in force (ClientConsent). The client's old switches are carried into it, then go:
a refusal of service SMS and an agreement to marketing SMS become events recorded "before
2026-12" (nobody knows which notice those people were shown), at the time, in the way and by the
person the record kept; a client who neither refused nor agreed has the purposes' defaults and
needs no event."""

import clientmgmt.consent
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

BEFORE_NOTICES = "before 2026-12"  # clientmgmt.consent.BEFORE_NOTICES, frozen here
BATCH = 2000


def carry_booleans(apps, schema_editor):
    Client = apps.get_model("clientmgmt", "Client")
    ConsentEvent = apps.get_model("clientmgmt", "ConsentEvent")
    ClientConsent = apps.get_model("clientmgmt", "ClientConsent")
    rows = (
        Client.objects.filter(models.Q(service_sms=False) | models.Q(marketing_opt_in=True))
        .order_by("pk")
        .values(
            "pk",
            "service_sms",
            "service_sms_refused_at",
            "marketing_opt_in",
            "marketing_opt_in_at",
            "marketing_opt_in_method",
            "marketing_opt_in_by_id",
            "created_at",
            "updated_at",
        )
    )
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        if not row["service_sms"]:
            batch.append(
                ConsentEvent(
                    client_id=row["pk"],
                    purpose="service_sms",
                    granted=False,
                    notice_version=BEFORE_NOTICES,
                    at=row["service_sms_refused_at"] or row["updated_at"],
                    channel="migration",
                )
            )
        if row["marketing_opt_in"]:
            batch.append(
                ConsentEvent(
                    client_id=row["pk"],
                    purpose="marketing_sms",
                    granted=True,
                    notice_version=BEFORE_NOTICES,
                    at=row["marketing_opt_in_at"] or row["created_at"],
                    channel="migration",
                    method=row["marketing_opt_in_method"] or "",
                    recorded_by_id=row["marketing_opt_in_by_id"],
                )
            )
        if len(batch) >= BATCH:
            _write(ConsentEvent, ClientConsent, batch)
            batch = []
    if batch:
        _write(ConsentEvent, ClientConsent, batch)


def _write(ConsentEvent, ClientConsent, events):
    ConsentEvent.objects.bulk_create(events)
    ClientConsent.objects.bulk_create(
        ClientConsent(
            client_id=event.client_id, purpose=event.purpose, granted=event.granted, event=event
        )
        for event in events
    )


def restore_booleans(apps, schema_editor):
    """Back to the switches (the fields come back with their defaults first)."""
    Client = apps.get_model("clientmgmt", "Client")
    ClientConsent = apps.get_model("clientmgmt", "ClientConsent")
    states = ClientConsent.objects.select_related("event").order_by("pk")
    for state in states.iterator(chunk_size=BATCH):
        event = state.event
        if state.purpose == "service_sms" and not state.granted:
            Client.objects.filter(pk=state.client_id).update(
                service_sms=False, service_sms_refused_at=event.at
            )
        elif state.purpose == "marketing_sms" and state.granted:
            Client.objects.filter(pk=state.client_id).update(
                marketing_opt_in=True,
                marketing_opt_in_at=event.at,
                marketing_opt_in_method=event.method,
                marketing_opt_in_by_id=event.recorded_by_id,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("clientmgmt", "0003_verbose_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="clientevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Record created"),
                    ("updated", "Record edited"),
                    ("archived", "Record archived"),
                    ("restored", "Record restored"),
                    ("merged_in", "Another record merged into this one"),
                    ("merged_away", "Merged into another record"),
                    ("unmerged", "Merge undone"),
                    ("imported", "Imported from a list"),
                    ("consent", "Consent changed"),
                    ("phone_flagged", "Phone number reported wrong"),
                    ("reviewed", "Archive reviewed"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="ConsentEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purpose",
                    models.CharField(
                        choices=clientmgmt.consent.purpose_choices,
                        max_length=30,
                        verbose_name="purpose",
                    ),
                ),
                ("granted", models.BooleanField(verbose_name="granted")),
                (
                    "notice_version",
                    models.CharField(
                        blank=True, max_length=20, verbose_name="privacy notice version"
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="time"),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("public_page", "Public booking page"),
                            ("walk_in", "Walk-in registration"),
                            ("new_client_form", "New client form"),
                            ("event_door", "Event registration at the door"),
                            ("client_page", "Client page"),
                            ("sms_reply", "SMS reply"),
                            ("provider", "SMS provider's report"),
                            ("import", "Imported list"),
                            ("migration", "Earlier record"),
                        ],
                        max_length=20,
                        verbose_name="where recorded",
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("verbal", "Verbally, in person"),
                            ("phone", "On the phone"),
                            ("written", "Signed form"),
                            ("sms", "SMS reply"),
                            ("web", "Online form"),
                        ],
                        max_length=10,
                        verbose_name="how the client said so",
                    ),
                ),
                ("detail", models.CharField(blank=True, max_length=200)),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="consent_events",
                        to="clientmgmt.client",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "consent event",
                "verbose_name_plural": "consent events",
            },
        ),
        migrations.CreateModel(
            name="ClientConsent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purpose",
                    models.CharField(choices=clientmgmt.consent.purpose_choices, max_length=30),
                ),
                ("granted", models.BooleanField()),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="consents",
                        to="clientmgmt.client",
                    ),
                ),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="clientmgmt.consentevent",
                    ),
                ),
            ],
            options={
                "verbose_name": "consent in force",
                "verbose_name_plural": "consents in force",
            },
        ),
        migrations.AddIndex(
            model_name="consentevent",
            index=models.Index(fields=["client", "-at"], name="consentevent_client_at_idx"),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "channel__in",
                        [
                            "public_page",
                            "walk_in",
                            "new_client_form",
                            "event_door",
                            "client_page",
                            "sms_reply",
                            "provider",
                            "import",
                            "migration",
                        ],
                    )
                ),
                name="consentevent_channel_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="clientconsent",
            constraint=models.UniqueConstraint(
                fields=("client", "purpose"), name="clientconsent_client_purpose_unique"
            ),
        ),
        migrations.RunPython(carry_booleans, restore_booleans),
        migrations.RemoveField(
            model_name="client",
            name="marketing_opt_in",
        ),
        migrations.RemoveField(
            model_name="client",
            name="marketing_opt_in_at",
        ),
        migrations.RemoveField(
            model_name="client",
            name="marketing_opt_in_by",
        ),
        migrations.RemoveField(
            model_name="client",
            name="marketing_opt_in_method",
        ),
        migrations.RemoveField(
            model_name="client",
            name="service_sms",
        ),
        migrations.RemoveField(
            model_name="client",
            name="service_sms_refused_at",
        ),
    ]
