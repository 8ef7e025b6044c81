"""Models of Consultation desk: bookings into clinic sessions (layer 2).

A booking takes one place of a ClinicSession (zhongdu.models.directory). The place is counted in
ClinicSession.booked by a single conditional UPDATE (consult.services.booking_create), and the
session's check constraint `session_not_overbooked` makes overbooking impossible in the database.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientmgmt import consent
from zhongdu import phones
from zhongdu.models import AppendOnlyModel, ClinicSession, Policy


class BookingPolicy(Policy):
    """The one row of booking rules administrators edit in the admin (pk is always 1)."""

    vip_share_percent = models.PositiveSmallIntegerField(
        _("places held for VIPs (%)"),
        default=10,
        help_text=_(
            "Share of each session's capacity that only VIP clients may book, rounded down."
        ),
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(vip_share_percent__lte=100), name="bookingpolicy_share_percent"
            ),
        ]

    def __str__(self):
        return str(_("Booking policy"))

    def held_for_vip(self, capacity: int) -> int:
        return capacity * self.vip_share_percent // 100


class Booking(models.Model):
    class Kind(models.TextChoices):
        EXPERT = "expert", _("Expert consultation")
        EXAM = "exam", _("Examination")
        SPECIAL_CARE = "special_care", _("Special care")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    class Source(models.TextChoices):
        """Where the booking was made: by staff at the desk, or by the client on the portal."""

        DESK = "desk", _("Consultation desk")
        PORTAL = "portal", _("Online portal")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("clinic session"),
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.EXPERT)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    priority = models.BooleanField(_("priority (VIP)"), default=False)
    source = models.CharField(
        _("booked on"), max_length=10, choices=Source.choices, default=Source.DESK
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    # The enquiry the booking was made from (the call screen's "booked"), which the consultation
    # analysis counts as converted. Indexed by booking_enquiry_idx below.
    enquiry = models.ForeignKey(
        "Enquiry",
        verbose_name=_("from enquiry"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The booking form's one-time key (zhongdu.forms.FormKeyField): one booking per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-created_at"]
        indexes = [
            # The day list: bookings of the sessions of one day (joined from
            # session_date_dept_idx), filtered by status.
            models.Index(fields=["session", "status"], name="booking_session_status_idx"),
            # A client's bookings, newest first (client page timeline).
            models.Index(fields=["client", "-created_at"], name="booking_client_created_idx"),
            # The bookings made from an enquiry: the analysis' EXISTS per enquiry
            # (consult.stats) and SET_NULL when an enquiry goes. Partial: most bookings have none.
            models.Index(
                fields=["enquiry"],
                condition=Q(enquiry__isnull=False),
                name="booking_enquiry_idx",
            ),
            # The consultant's queue: the bookings clients made or changed on the portal lately,
            # latest first. Partial: most bookings are the desk's.
            models.Index(
                fields=["-updated_at"],
                condition=Q(source="portal"),
                name="booking_portal_updated_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["booked", "arrived", "cancelled", "no_show"]),
                name="booking_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["expert", "exam", "special_care"]),
                name="booking_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["desk", "portal"]), name="booking_source_valid"
            ),
            # One live booking per client and session: a double click books once.
            models.UniqueConstraint(
                fields=["client", "session"],
                condition=Q(status="booked"),
                name="booking_client_session_live_unique",
            ),
            # One booking per booking form (a double click finds the first).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="booking_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.session}"

    def get_absolute_url(self):
        return reverse("consult:booking_detail", args=[self.pk])


class BookingEvent(AppendOnlyModel):
    """Append-only history of a booking: created, status changes, reschedules."""

    class Action(models.TextChoices):
        CREATED = "created", _("Booked")
        STATUS = "status", _("Status changed")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        CONFIRMED = "confirmed", _("Confirmed by the client")

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=Booking.Status.choices
    )
    to_status = models.CharField(_("to"), max_length=10, blank=True, choices=Booking.Status.choices)
    from_session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("from session"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("to session"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["at", "pk"]
        indexes = [
            # A booking's history, oldest first (booking detail page).
            models.Index(fields=["booking", "at"], name="bookingevent_booking_at_idx"),
        ]

    def __str__(self):
        return f"{self.booking_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class Enquiry(models.Model):
    """One contact with a caller, client or not: a call, a chat, an online request, a visit.

    Every enquiry is counted (channels and consultants are judged by their conversion), so a
    caller who gives only a name or a number is still recorded, as a prospect.
    """

    class ContactChannel(models.TextChoices):
        PHONE = "phone", _("Phone")
        WEB_CHAT = "web_chat", _("Web chat")
        WECHAT = "wechat", _("WeChat")
        ONLINE_FORM = "online_form", _("Online form")
        IN_PERSON = "in_person", _("In person")

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CALL_BACK = "call_back", _("Will call back")
        INFORMATION = "information", _("Information only")
        NOT_INTERESTED = "not_interested", _("Not interested")
        REFERRED = "referred", _("Referred to an expert")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enquiries",
    )
    prospect_name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    prospect_phone = models.CharField(_("phone"), max_length=20, blank=True)
    contact_channel = models.CharField(
        _("contact by"),
        max_length=20,
        choices=ContactChannel.choices,
        default=ContactChannel.PHONE,
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    marketing_channel = models.ForeignKey(
        "zhongdu.Channel",
        verbose_name=_("heard of us through"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "zhongdu.Department",
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    topic = models.CharField(_("condition or topic"), max_length=200, blank=True)
    question = models.TextField(_("question"), blank=True)
    answer = models.TextField(_("answer given"), blank=True)
    referred_expert = models.ForeignKey(
        "zhongdu.Expert",
        verbose_name=_("referred to expert"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Blank only on an online-form request nobody has handled yet (see the check constraint).
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    call_back_date = models.DateField(_("call back on"), null=True, blank=True)
    preferred_date = models.DateField(_("preferred date"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), default=0)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("consultant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    # Done with: an online-form request that was answered, a call-back that was made.
    handled = models.BooleanField(_("handled"), default=False)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the person agreed to on the public page ({purpose: True}, clientmgmt.consent) and the
    # privacy notice's version they were shown: recorded as the client's consents when the
    # request is attached to a client (consult.services.enquiries_attach_to_client).
    consents = models.JSONField(_("consents given"), default=dict, blank=True)
    notice_version = models.CharField(_("privacy notice version"), max_length=20, blank=True)
    # The recording form's one-time key (the call screen's, the public page's): one enquiry per
    # form (zhongdu.forms.FormKeyField).
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("enquiry")
        verbose_name_plural = _("enquiries")
        ordering = ["-created_at"]
        indexes = [
            # The consultant's queue: their call-backs due by a day, not yet made.
            models.Index(
                fields=["consultant", "call_back_date"],
                condition=Q(handled=False),
                name="enquiry_consultant_cb_idx",
            ),
            # The queue's online requests not yet handled, oldest first (a small partial index).
            models.Index(
                fields=["created_at"],
                condition=Q(contact_channel="online_form", handled=False),
                name="enquiry_form_unhandled_idx",
            ),
            # A client's enquiries, newest first (client page timeline).
            models.Index(fields=["client", "-created_at"], name="enquiry_client_created_idx"),
            # The public form's limit per phone: requests from one number in the last hour.
            models.Index(fields=["prospect_phone", "created_at"], name="enquiry_phone_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    outcome__in=["booked", "call_back", "information", "not_interested", "referred"]
                )
                | Q(outcome="", contact_channel="online_form"),
                name="enquiry_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    contact_channel__in=["phone", "web_chat", "wechat", "online_form", "in_person"]
                ),
                name="enquiry_contact_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=["in", "out"]), name="enquiry_direction_valid"
            ),
            # Somebody: a client, or a prospect with a name or a number.
            models.CheckConstraint(
                condition=Q(client__isnull=False) | ~Q(prospect_name="") | ~Q(prospect_phone=""),
                name="enquiry_has_a_caller",
            ),
            # One enquiry per form (a double click on "save" records one).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="enquiry_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.caller_name}"

    @property
    def caller_name(self) -> str:
        return self.client.name if self.client_id else self.prospect_name

    @property
    def caller_phone(self) -> str:
        """The E.164 number to call back: the client's, else the prospect's."""
        return self.client.phone if self.client_id else self.prospect_phone

    @property
    def caller_phone_masked(self) -> str:
        return phones.mask(self.caller_phone)

    @property
    def consent_labels(self) -> list:
        """What the person agreed to on the public page, as staff name the purposes; one the
        page cannot grant on its own (marketing) says it is to be confirmed with the person."""
        return [
            purpose.label
            if purpose.from_public_page
            else _("%(purpose)s (to confirm on the call)") % {"purpose": purpose.label}
            for code, purpose in consent.PURPOSES.items()
            if self.consents.get(code)
        ]

    def is_from(self, client) -> bool:
        """The enquiry is this client's, or a prospect's from the client's mobile number (a
        caller registered since; booking the client attaches it to them)."""
        if self.client_id is not None:
            return self.client_id == client.pk
        return bool(self.prospect_phone) and self.prospect_phone == client.phone


class PublicRequestAttempt(models.Model):
    """Every submission of the public booking-request page, kept for its rate limit (per
    address and per phone, over the last hour), including those refused or caught by the
    honeypot, which create no enquiry."""

    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=False)

    class Meta:
        verbose_name = _("public request attempt")
        verbose_name_plural = _("public request attempts")
        indexes = [
            # Attempts from one address in the last hour.
            models.Index(fields=["ip", "at"], name="publicattempt_ip_at_idx"),
            # Attempts for one phone in the last hour.
            models.Index(fields=["phone", "at"], name="publicattempt_phone_at_idx"),
        ]

    def __str__(self):
        return f"{self.ip} {self.at:%Y-%m-%d %H:%M}"


class Recall(models.Model):
    """Someone to call back, worked from one list (the consultants' queue and the hotline's
    callback tasks) with one outcome form:

    - a no-show (kind no_show): made by the end-of-day sweep (consult.services.
      booking_mark_no_shows) for its missed booking, until the client is rebooked or the recall
      is closed;
    - a callback (kind callback): a voicemail, an abandoned or a missed call of the hotline
      (the voice app makes it, one open callback per caller however often they rang), with a
      deadline in working minutes and an agent it is assigned to.

    Unreachable attempts are counted and the next one is planned; the third closes the recall."""

    class Kind(models.TextChoices):
        NO_SHOW = "no_show", _("No-show")
        CALLBACK = "callback", _("Callback")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REACHED = "reached", _("Reached")
        REBOOKED = "rebooked", _("Rebooked")
        CLOSED = "closed", _("Closed")

    class Reason(models.TextChoices):
        FORGOT = "forgot", _("Forgot")
        TOO_FAR = "too_far", _("Too far")
        PRICE = "price", _("Price")
        BETTER_ELSEWHERE = "better_elsewhere", _("Better elsewhere")
        ILL = "ill", _("Ill")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NO_SHOW)
    booking = models.OneToOneField(
        Booking,
        verbose_name=_("missed booking"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recall",
    )
    # A callback's caller may have no record: then only their number is known.
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recalls",
    )
    # The number to call back (a callback's caller, in E.164 where it reads as one); shown
    # masked, never put in an address.
    phone = models.CharField(_("number to call"), max_length=32, blank=True)
    # A callback's deadline, counted in working minutes from the call (zhongdu.workcalendar).
    due_at = models.DateTimeField(_("call back by"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_attempt_at = models.DateTimeField(_("first call made"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    reason = models.CharField(
        _("reason for the no-show"), max_length=20, choices=Reason.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("call attempts"), default=0)
    next_attempt_on = models.DateField(_("next attempt on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    reached_at = models.DateTimeField(_("reached at"), null=True, blank=True)
    rebooking = models.ForeignKey(
        Booking,
        verbose_name=_("new booking"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        ordering = ["next_attempt_on", "pk"]
        indexes = [
            # The queue: open recalls due by a day, earliest first (a small partial index).
            models.Index(
                fields=["next_attempt_on"],
                condition=Q(status="open"),
                name="recall_open_due_idx",
            ),
            # A new booking rebooks the client's open recalls (consult.services).
            models.Index(fields=["client", "status"], name="recall_client_status_idx"),
            # The figures: callbacks made in a period.
            models.Index(fields=["kind", "created_at"], name="recall_kind_created_idx"),
            # Each missed call asks whether its caller was reached since (consult.services.
            # callback_for_caller): one caller's callbacks, the latest reached first.
            models.Index(
                fields=["phone", "-reached_at"],
                condition=Q(kind="callback"),
                name="recall_callback_phone_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["no_show", "callback"]), name="recall_kind_valid"
            ),
            # A no-show's recall is its missed booking's; a callback has a number to call.
            models.CheckConstraint(
                condition=Q(kind="callback", phone__gt="")
                | Q(kind="no_show", booking__isnull=False, client__isnull=False),
                name="recall_kind_has_its_subject",
            ),
            # One open callback per caller, however often they rang.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(kind="callback", status="open"),
                name="recall_one_open_callback_per_number",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "reached", "rebooked", "closed"]),
                name="recall_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    reason__in=[
                        "",
                        "forgot",
                        "too_far",
                        "price",
                        "better_elsewhere",
                        "ill",
                        "other",
                    ]
                ),
                name="recall_reason_valid",
            ),
            # An open recall always has its next call planned.
            models.CheckConstraint(
                condition=~Q(status="open") | Q(next_attempt_on__isnull=False),
                name="recall_open_has_next_attempt",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("consult:recall_detail", args=[self.pk])

    @property
    def is_callback(self) -> bool:
        return self.kind == self.Kind.CALLBACK

    @property
    def number(self) -> str:
        """The number to call: the callback's caller's, else the client's."""
        return self.phone or (self.client.phone if self.client_id else "")

    @property
    def number_masked(self) -> str:
        return phones.mask(self.number) if self.number else ""
