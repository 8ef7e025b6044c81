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

from zhongdu.masking import mask_phone
from zhongdu.models import Channel


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

    class OptInMethod(models.TextChoices):
        VERBAL = "verbal", _("Verbally, in person")
        PHONE = "phone", _("On the phone")
        WRITTEN = "written", _("Signed form")
        SMS = "sms", _("SMS reply")
        WEB = "web", _("Online form")

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
    # Consent. Service SMS (confirmations, reminders) are on unless the client refused them;
    # marketing SMS only with a recorded opt-in.
    service_sms = models.BooleanField(_("service SMS"), default=True)
    service_sms_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    marketing_opt_in = models.BooleanField(_("marketing SMS"), default=False)
    marketing_opt_in_at = models.DateTimeField(_("opted in at"), null=True, blank=True)
    marketing_opt_in_method = models.CharField(
        _("opted in how"), max_length=10, choices=OptInMethod.choices, blank=True
    )
    marketing_opt_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opt-in recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
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
        return mask_phone(self.phone)

    @property
    def privacy_contact_phone_masked(self):
        return mask_phone(self.privacy_contact_phone)

    @property
    def age(self):
        if not self.date_of_birth:
            return None
        today = timezone.localdate()
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def categories(self):
        labels = []
        if self.is_patient:
            labels.append(_("Patient"))
        if self.is_member:
            labels.append(_("Member"))
        if self.is_exam_client:
            labels.append(_("Exam client"))
        return labels


class ClientEvent(models.Model):
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
        CONSENT = "consent", _("SMS consent changed")
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

    class Meta:
        verbose_name = _("client merge")
        verbose_name_plural = _("client merges")
        indexes = [
            models.Index(fields=["survivor"], name="clientmerge_survivor_idx"),
            models.Index(fields=["merged"], name="clientmerge_merged_idx"),
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
        ordering = ["row_number"]
        indexes = [
            # The job walks its rows still to do, in file order.
            models.Index(fields=["job", "outcome", "row_number"], name="importrow_job_todo_idx"),
        ]

    def __str__(self):
        return f"{self.job_id}:{self.row_number}"


class Complaint(models.Model):
    """A client's complaint (投诉), from any step: received, acknowledged, investigated, resolved
    and closed with a recorded result. The allowed moves are a map in clientmgmt.complaints;
    every step is a ComplaintEvent. Deadlines count working hours (zhongdu.workcalendar)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")
        RETURN_CALL = "return_call", _("Return-visit call")
        SURVEY = "survey", _("Survey")
        SMS = "sms", _("SMS")
        WEB = "web", _("Web or WeChat")
        LETTER = "letter", _("Letter")
        OTHER = "other", _("Other")

    class Category(models.TextChoices):
        ATTITUDE = "attitude", _("Service attitude")
        MEDICAL = "medical", _("Medical quality")
        WAITING = "waiting", _("Waiting time")
        BILLING = "billing", _("Billing")
        ENVIRONMENT = "environment", _("Environment")
        PRIVACY = "privacy", _("Privacy")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        NORMAL = "normal", _("Normal")
        SERIOUS = "serious", _("Serious")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("complaint status", "Received")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("complaint status", "Acknowledged")
        INVESTIGATING = "investigating", pgettext_lazy("complaint status", "Investigating")
        RESOLVED = "resolved", pgettext_lazy("complaint status", "Resolved")
        CLOSED = "closed", pgettext_lazy("complaint status", "Closed")

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="complaints"
    )
    channel = models.CharField(
        _("received by"), max_length=15, choices=Channel.choices, default=Channel.PHONE
    )
    category = models.CharField(
        _("category"), max_length=15, choices=Category.choices, default=Category.OTHER
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    department = models.ForeignKey(
        "zhongdu.Department",
        verbose_name=_("department concerned"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    person_concerned = models.CharField(_("person concerned"), max_length=50, blank=True)
    words = models.TextField(_("the client's words"))
    # Where it came from, as "<model label>:<id>" (a return-visit call, a survey response): the
    # same origin never raises two complaints.
    source = models.CharField(_("source"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.RECEIVED
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Deadline warnings and escalations sent (the beat job sends each once).
    acknowledge_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledge_escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolve_escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The result, required to close.
    findings = models.TextField(_("findings"), blank=True)
    action_taken = models.TextField(_("action taken"), blank=True)
    compensation = models.CharField(_("compensation"), max_length=200, blank=True)
    client_accepted = models.BooleanField(_("the client accepted the result"), null=True)
    client_called_at = models.DateTimeField(
        _("client called back about the result at"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at"]
        indexes = [
            # The handler's queue and the managers' overview: open complaints by age.
            models.Index(
                fields=["handler", "received_at"],
                condition=~Q(status="closed"),
                name="complaint_open_handler_idx",
            ),
            models.Index(fields=["status", "received_at"], name="complaint_status_received_idx"),
            # A client's complaints (client page, health archive).
            models.Index(fields=["client", "-received_at"], name="complaint_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["received", "acknowledged", "investigating", "resolved", "closed"]
                ),
                name="complaint_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=["minor", "normal", "serious", "critical"]),
                name="complaint_severity_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "attitude",
                        "medical",
                        "waiting",
                        "billing",
                        "environment",
                        "privacy",
                        "other",
                    ]
                ),
                name="complaint_category_valid",
            ),
            # A closed complaint has its result, whether the client accepted it, and the call
            # to the client about it (clientmgmt.complaints.complaint_set_status checks first).
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (
                    Q(closed_at__isnull=False)
                    & ~Q(findings="")
                    & ~Q(action_taken="")
                    & Q(client_accepted__isnull=False)
                    & Q(client_called_at__isnull=False)
                ),
                name="complaint_closed_has_result",
            ),
            # One complaint per origin (a call, a survey response).
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="complaint_source_unique"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_category_display()}"

    def get_absolute_url(self):
        return reverse("clientmgmt:complaint_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class ComplaintEvent(models.Model):
    """Append-only history of a complaint: who moved it, when, and what they wrote."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=15, blank=True, choices=Complaint.Status.choices)
    to_status = models.CharField(max_length=15, blank=True, choices=Complaint.Status.choices)
    detail = models.TextField(_("detail"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaintevent_at_idx")]

    def __str__(self):
        return f"{self.complaint_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("complaint history cannot be changed")
        super().save(*args, **kwargs)


class ComplaintDeadline(models.Model):
    """How many working hours a complaint of each severity has to be acknowledged and resolved
    (administrators edit them; zhongdu.workcalendar counts the hours)."""

    severity = models.CharField(_("severity"), max_length=10, choices=Complaint.Severity.choices)
    acknowledge_hours = models.PositiveSmallIntegerField(_("acknowledge within (working hours)"))
    resolve_hours = models.PositiveSmallIntegerField(_("resolve within (working hours)"))
    warn_hours = models.PositiveSmallIntegerField(
        _("warn the handler this many working hours before"), default=2
    )

    class Meta:
        verbose_name = _("complaint deadline")
        verbose_name_plural = _("complaint deadlines")
        ordering = ["severity"]
        constraints = [
            models.UniqueConstraint(fields=["severity"], name="complaintdeadline_severity_unique"),
        ]

    def __str__(self):
        return str(self.get_severity_display())


class Referral(models.Model):
    """A client sent to the hospital by the marketing department, a partner clinic, a doctor or
    an enterprise (seed: 协助安排好市场部转诊病人的就诊工作): the consultation desk calls them, the
    front desk sees them arrive. The allowed moves are a map in clientmgmt.referrals; every
    change is a ReferralEvent (the client timeline reads them)."""

    class Source(models.TextChoices):
        MARKETING = "marketing", _("Marketing department")
        CLINIC = "clinic", _("Partner clinic")
        DOCTOR = "doctor", _("Doctor")
        ENTERPRISE = "enterprise", _("Enterprise")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("referral status", "New")
        CONTACTED = "contacted", pgettext_lazy("referral status", "Contacted")
        BOOKED = "booked", pgettext_lazy("referral status", "Booked")
        ARRIVED = "arrived", pgettext_lazy("referral status", "Arrived")
        CLOSED = "closed", pgettext_lazy("referral status", "Closed")

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="referrals"
    )
    source = models.CharField(
        _("referred by"), max_length=12, choices=Source.choices, default=Source.MARKETING
    )
    referrer = models.CharField(
        _("referring person or organisation"),
        max_length=100,
        help_text=_("Who sent the client: a name, a clinic, a company."),
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # The recording form's one-time key (zhongdu.forms.FormKeyField): one referral per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            # The consultation desk's "referred clients to call" and the referral list's open
            # part: the open referrals, oldest first (a small partial index).
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["new", "contacted", "booked"]),
                name="referral_open_idx",
            ),
            # A client's referrals: the client page's card, the walk-in badge, the timeline.
            models.Index(fields=["client", "-created_at"], name="referral_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["new", "contacted", "booked", "arrived", "closed"]),
                name="referral_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["marketing", "clinic", "doctor", "enterprise", "other"]),
                name="referral_source_valid",
            ),
            # One referral per recording form (a double click records it once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="referral_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_source_display()}: {self.referrer}"

    def get_absolute_url(self):
        return reverse("clientmgmt:client_detail", args=[self.client_id])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.CONTACTED, self.Status.BOOKED)


class ReferralEvent(models.Model):
    """Append-only history of a referral: recorded, contacted, booked, arrived, closed."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True, choices=Referral.Status.choices)
    to_status = models.CharField(max_length=10, choices=Referral.Status.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["referral", "at"], name="referralevent_at_idx")]

    def __str__(self):
        return f"{self.referral_id} {self.from_status}->{self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("referral history cannot be changed")
        super().save(*args, **kwargs)
