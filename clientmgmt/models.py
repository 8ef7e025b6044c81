"""The one Client record per person, the centre of everything; its append-only event log; and
the merges that join two records of the same person."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu import phones
from zhongdu.models import AppendOnlyModel, Channel

from . import consent


class SearchTermsField(models.TextField):
    """Space-separated search tokens (name substrings, pinyin, pinyin initials) with the
    `term_prefix` lookup: a GIN full-text index on Postgres, LIKE elsewhere (clientmgmt.search)."""


class Client(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        UNKNOWN = "unknown", _("Not stated")

    class Education(models.TextChoices):
        UNKNOWN = "", _("Not stated")
        PRIMARY = "primary", _("Primary school")
        JUNIOR = "junior", _("Junior middle school")
        SENIOR = "senior", _("Senior middle school / vocational")
        COLLEGE = "college", _("College")
        BACHELOR = "bachelor", _("Bachelor")
        POSTGRADUATE = "postgraduate", _("Postgraduate")

    class FamilyStatus(models.TextChoices):
        UNKNOWN = "", _("Not stated")
        SINGLE = "single", _("Single")
        MARRIED = "married", _("Married")
        DIVORCED = "divorced", _("Divorced")
        WIDOWED = "widowed", _("Widowed")

    class HealthStatus(models.TextChoices):
        UNKNOWN = "", _("Not stated")
        GOOD = "good", _("Good")
        FAIR = "fair", _("Fair")
        CHRONIC = "chronic", _("Chronic condition")
        POOR = "poor", _("Poor")

    class ExamStatus(models.TextChoices):
        UNKNOWN = "", _("Not stated")
        NEVER = "never", _("Never had a check-up")
        OCCASIONAL = "occasional", _("Occasional check-ups")
        YEARLY = "yearly", _("Yearly check-ups")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")
        MERGED = "merged", _("Merged into another record")

    # A person's name (姓名), not a thing's (名称): the context tells the translators apart.
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    name_pinyin = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False)
    search_terms = SearchTermsField(blank=True, editable=False)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    education = models.CharField(
        _("education"), max_length=20, choices=Education.choices, blank=True
    )
    family_status = models.CharField(
        _("family status"), max_length=20, choices=FamilyStatus.choices, blank=True
    )
    health_status = models.CharField(
        _("health status"), max_length=20, choices=HealthStatus.choices, blank=True
    )
    exam_status = models.CharField(
        _("physical-exam status"), max_length=20, choices=ExamStatus.choices, blank=True
    )
    # E.164 (+8613812341234); last4 is kept for the front desk's "last four digits" search.
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False)
    # Set when a return-visit call found the number wrong; cleared when the number is edited.
    phone_flagged_at = models.DateTimeField(
        _("phone number reported wrong"), null=True, blank=True, editable=False
    )
    other_contact = models.CharField(
        _("other contact"), max_length=100, blank=True, help_text=_("Landline, WeChat, e-mail.")
    )
    privacy_contact_name = models.CharField(_("privacy contact"), max_length=50, blank=True)
    privacy_contact_relation = models.CharField(_("relation"), max_length=30, blank=True)
    privacy_contact_phone = models.CharField(_("privacy contact phone"), max_length=20, blank=True)
    # The ID card number is never stored in plain text: ciphertext, a keyed hash for exact
    # lookups and duplicate detection, and the masked form for display.
    id_number_encrypted = models.TextField(blank=True, editable=False)
    # NULL, not "", when absent: the unique constraint must allow many clients without a card.
    id_number_hash = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    id_number_masked = models.CharField(max_length=20, blank=True, editable=False)
    is_patient = models.BooleanField(_("patient"), default=False)
    is_member = models.BooleanField(_("member"), default=False)
    is_exam_client = models.BooleanField(_("exam client"), default=False)
    source_channel = models.ForeignKey(
        Channel,
        verbose_name=_("heard of us through"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Consent is its own record (ConsentEvent, ClientConsent below; clientmgmt.consent).
    notes = models.TextField(_("notes"), blank=True)
    # Kept up to date by the front desk and VIP apps, so lists need no join to show them.
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True, editable=False)
    is_vip = models.BooleanField(_("VIP"), default=False, editable=False)
    # The archive maintenance round (客户管理部: 健康档案分类管理并定期维护): when a client manager
    # last went through the record (clientmgmt.services.client_mark_reviewed).
    archive_reviewed_at = models.DateTimeField(
        _("archive reviewed"), null=True, blank=True, editable=False
    )
    archive_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("archive reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # The one-time key of the form that registered the client (zhongdu.forms.FormKeyField): a
    # double click or a resubmitted tab finds this record instead of writing a second.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    # What the audit trail's "changed fields" call the changes that are not one field
    # (zhongdu.audit.changed_field_labels).
    AUDIT_FIELD_LABELS = {
        "id_number": _("ID card"),
        "merge": _("Merged"),
        "unmerge": _("Merge undone"),
        # A consent recorded or withdrawn: the purpose (clientmgmt.consent).
        **{code: purpose.label for code, purpose in consent.PURPOSES.items()},
    }

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        permissions = [
            ("reveal_client_contact", _("Can reveal full phone and ID numbers")),
            ("export_client", _("Can export client lists")),
            ("merge_client", _("Can merge and unmerge client records")),
            ("archive_client", _("Can archive and restore client records")),
        ]
        indexes = [
            # Search by full phone, and duplicate detection on create/edit.
            models.Index(fields=["phone"], name="client_phone_idx"),
            # Search by the last four digits of the phone (front desk).
            models.Index(fields=["phone_last4"], name="client_phone_last4_idx"),
            # Exact-name hits first; name + date of birth duplicate detection.
            models.Index(fields=["name", "date_of_birth"], name="client_name_dob_idx"),
            # Name substrings, pinyin and initials: a GIN index on to_tsvector(search_terms) is
            # created on Postgres by migration 0002 (an expression index Django cannot declare
            # portably).
            # The archives (clientmgmt.archives.archive_clients) page newest records first
            # (ORDER BY id DESC LIMIT 51, keyset on id). Filters that keep most rows (patients,
            # members, exam clients, not reviewed lately) walk the primary key; those that keep
            # few have their own index:
            # - last visit before / after a day: a range on last_visit_at;
            models.Index(fields=["last_visit_at"], name="client_last_visit_idx"),
            # - one channel: that channel's records, newest first;
            models.Index(fields=["source_channel", "-id"], name="client_channel_id_idx"),
            # - VIPs only: the few VIP records, newest first (a small partial index);
            models.Index(fields=["-id"], condition=Q(is_vip=True), name="client_vip_id_idx"),
            # - reviewed before a day: a range on archive_reviewed_at (never reviewed is the
            #   NULL part of the same index).
            models.Index(fields=["archive_reviewed_at"], name="client_reviewed_idx"),
        ]
        constraints = [
            # One record per identity card: the database refuses a second.
            models.UniqueConstraint(fields=["id_number_hash"], name="client_id_number_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "archived", "merged"]),
                name="client_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="client_merged_has_survivor",
            ),
            models.CheckConstraint(
                condition=Q(sex__in=["female", "male", "unknown"]), name="client_sex_valid"
            ),
            # One record per registration form (clientmgmt.services.client_register).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="client_request_key_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("clientmgmt:client_detail", args=[self.pk])

    @property
    def phone_masked(self):
        return phones.mask(self.phone)

    @property
    def privacy_contact_phone_masked(self):
        return phones.mask(self.privacy_contact_phone)

    @property
    def age(self):
        return self.age_on(timezone.localdate())

    def age_on(self, day):
        """The age in whole years on `day` (None without a date of birth)."""
        if not self.date_of_birth:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    # (flag, label) of the categories a client can be in, in the order they are shown.
    CATEGORIES = (
        ("is_patient", _("Patient")),
        ("is_member", _("Member")),
        ("is_exam_client", _("Exam client")),
    )

    @property
    def categories(self):
        return [label for flag, label in self.CATEGORIES if getattr(self, flag)]


class ClientEvent(AppendOnlyModel):
    """Append-only history of a client record; the client timeline reads it."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Record created")
        UPDATED = "updated", _("Record edited")
        ARCHIVED = "archived", _("Record archived")
        RESTORED = "restored", _("Record restored")
        MERGED_IN = "merged_in", _("Another record merged into this one")
        MERGED_AWAY = "merged_away", _("Merged into another record")
        UNMERGED = "unmerged", _("Merge undone")
        IMPORTED = "imported", _("Imported from a list")
        CONSENT = "consent", _("Consent changed")
        PHONE_FLAGGED = "phone_flagged", _("Phone number reported wrong")
        REVIEWED = "reviewed", _("Archive reviewed")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fields = models.JSONField(default=list, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("client event")
        verbose_name_plural = _("client events")
        indexes = [
            # The client timeline: one client's events, newest first.
            models.Index(fields=["client", "-at"], name="clientevent_client_at_idx"),
        ]

    def __str__(self):
        return f"{self.client_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ConsentEvent(AppendOnlyModel):
    """One grant or withdrawal of consent to one purpose (clientmgmt.consent.PURPOSES), with the
    privacy notice's version the person was shown, when, where it was recorded and by whom.
    Append-only: the client page's consent history and any audit read it. The state in force is
    ClientConsent, written in the same transaction (clientmgmt.services.consent_record)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consent_events")
    purpose = models.CharField(_("purpose"), max_length=30, choices=consent.purpose_choices)
    granted = models.BooleanField(_("granted"))
    notice_version = models.CharField(_("privacy notice version"), max_length=20, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)
    channel = models.CharField(_("where recorded"), max_length=20, choices=consent.Channel.choices)
    method = models.CharField(
        _("how the client said so"), max_length=10, choices=consent.Method.choices, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        indexes = [
            # The client page's consent history (newest first), and the state rebuilt from it
            # after a merge (the latest event per purpose).
            models.Index(fields=["client", "-at"], name="consentevent_client_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=consent.Channel.values), name="consentevent_channel_valid"
            ),
        ]

    def __str__(self):
        return f"{self.client_id} {self.purpose} {'+' if self.granted else '-'} {self.at:%Y-%m-%d}"


class ClientConsent(models.Model):
    """The consent in force for one client and purpose: the latest ConsentEvent's answer, kept
    beside it so that "clients who agreed to marketing SMS" is one indexed lookup per client
    (clientmgmt.selectors.consent_condition). No row: the purpose's default."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=30, choices=consent.purpose_choices)
    granted = models.BooleanField()
    event = models.ForeignKey(ConsentEvent, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("consent in force")
        verbose_name_plural = _("consents in force")
        constraints = [
            # One state per client and purpose; its index serves every consent condition
            # (EXISTS ... WHERE client_id = ? AND purpose = ?) and the client page.
            models.UniqueConstraint(
                fields=["client", "purpose"], name="clientconsent_client_purpose_unique"
            ),
        ]

    def __str__(self):
        return f"{self.client_id} {self.purpose} {'+' if self.granted else '-'}"


class ClientMerge(models.Model):
    """Two records of one person joined: the loser's rows moved to the survivor. `moved` keeps
    the ids of every row moved per relation, and `filled` the survivor's blank fields taken from
    the loser, so the merge can be undone exactly."""

    survivor = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    moved = models.JSONField(default=dict)
    filled = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The merge form's one-time key (zhongdu.forms.FormKeyField): a double click on "Merge"
    # finds this merge instead of refusing the second click.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    # Where both records hold a value and they differ, staff choose which one the survivor keeps
    # (the side-by-side view): {field: the columns that go with it}. The survivor's own value
    # stays unless the merged record's is chosen; the undo puts it back (`filled`).
    KEEPABLE = {
        "sex": ("sex",),
        "date_of_birth": ("date_of_birth",),
        "phone": ("phone", "phone_last4"),
        "education": ("education",),
        "family_status": ("family_status",),
        "health_status": ("health_status",),
        "exam_status": ("exam_status",),
    }

    class Meta:
        verbose_name = _("client merge")
        verbose_name_plural = _("client merges")
        indexes = [
            models.Index(fields=["survivor"], name="clientmerge_survivor_idx"),
            models.Index(fields=["merged"], name="clientmerge_merged_idx"),
        ]
        constraints = [
            # One merge per merge form (clientmgmt.services.client_merge).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="clientmerge_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"{self.merged_id} -> {self.survivor_id}"

    def get_absolute_url(self):
        return reverse("clientmgmt:merge_detail", args=[self.pk])


class ClientImport(models.Model):
    """A legacy list of clients uploaded by staff: parsed and checked at upload (preview), then
    written by a Celery job row by row."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Waiting for confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Finished")

    token = models.UUIDField(default=uuid.uuid4, editable=False)
    file_name = models.CharField(_("file"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The upload form's one-time key (zhongdu.forms.FormKeyField): one import per upload.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")
        constraints = [
            # The page address: unguessable, unlike the row id.
            models.UniqueConstraint(fields=["token"], name="clientimport_token_unique"),
            # One import per upload form (a double click on "upload" uploads once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="clientimport_request_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["preview", "queued", "running", "done"]),
                name="clientimport_status_valid",
            ),
        ]

    def __str__(self):
        return self.file_name

    def get_absolute_url(self):
        return reverse("clientmgmt:import_detail", args=[self.token])

    @property
    def percent(self):
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 100


class ClientImportRow(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        SKIP = "skip", _("Skip (keep the existing record)")
        MERGE = "merge", _("Merge into the existing record")

    class Outcome(models.TextChoices):
        PENDING = "", _("Pending")
        CREATED = "created", _("Created")
        MERGED = "merged", _("Merged")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(ClientImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    # The row as uploaded, encrypted (it may hold an ID card number); emptied once imported.
    data_encrypted = models.TextField(blank=True)
    display = models.JSONField(default=dict)  # what the preview shows: numbers masked
    errors = models.JSONField(default=list)
    duplicate_ids = models.JSONField(default=list)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.CREATE)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    message = models.CharField(max_length=300, blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        ordering = ["row_number"]
        indexes = [
            # The job walks its rows still to do, in file order.
            models.Index(fields=["job", "outcome", "row_number"], name="importrow_job_todo_idx"),
        ]

    def __str__(self):
        return f"{self.job_id}:{self.row_number}"
