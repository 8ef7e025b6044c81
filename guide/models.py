"""Models of Front desk (layer 2): visits with their triage and states, charges, membership
cards and exam orders.

A visit is one person's arrival at the hospital on one day: a booked client checked in (the
visit points at the consultation desk's Booking, whose status the check-in sets to arrived) or a
walk-in. Its states are a map in guide.services (VISIT_TRANSITIONS); each move is a VisitEvent
and stamps the time of the step, so waiting times can be measured.
"""

import datetime
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.models import (
    AppendOnlyModel,
    Channel,
    ClinicSession,
    Department,
    Expert,
    PriceItem,
)


class TriageKeyword(models.Model):
    """A word a client uses for their complaint, and the department that treats it
    (administrators maintain the list; the triage screen suggests departments from it)."""

    keyword = models.CharField(_("keyword"), max_length=30)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="triage_keywords",
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("triage keyword")
        verbose_name_plural = _("triage keywords")
        ordering = ["sort_order", "keyword"]
        constraints = [
            models.UniqueConstraint(
                fields=["keyword", "department"], name="triagekeyword_keyword_dept_unique"
            ),
        ]

    def __str__(self):
        return f"{self.keyword} → {self.department}"


class Visit(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", pgettext_lazy("visit status", "Arrived")
        WAITING = "waiting", pgettext_lazy("visit status", "Waiting")
        WITH_DOCTOR = "with_doctor", pgettext_lazy("visit status", "With the doctor")
        DONE = "done", pgettext_lazy("visit status", "Done")
        LEFT = "left", pgettext_lazy("visit status", "Left without being seen")

    class Type(models.TextChoices):
        FIRST = "first", _("First visit")
        RETURN = "return", _("Return visit")
        EXAM = "exam", _("Examination")
        MEMBER = "member", _("Member visit")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    # The booking this visit honours; none for a walk-in. One visit per booking: a second
    # check-in of the same booking is refused by the database.
    booking = models.OneToOneField(
        "consult.Booking",
        verbose_name=_("booking"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visit",
    )
    day = models.DateField(_("day"))
    visit_type = models.CharField(
        _("visit type"), max_length=10, choices=Type.choices, default=Type.FIRST
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    expert = models.ForeignKey(
        Expert,
        verbose_name=_("doctor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    session = models.ForeignKey(
        ClinicSession,
        verbose_name=_("clinic session"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    chief_complaint = models.CharField(_("chief complaint"), max_length=200, blank=True)
    # How the person heard of the hospital, copied at arrival so that the day's figures by
    # channel stay what they were even if the client record changes later.
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    priority = models.BooleanField(_("priority (VIP)"), default=False)
    escort = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escort"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    arrived_at = models.DateTimeField(_("arrived at"), default=timezone.now)
    triaged_at = models.DateTimeField(_("triaged at"), null=True, blank=True)
    seen_at = models.DateTimeField(_("seen by the doctor at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-arrived_at"]
        indexes = [
            # Today's board (walk-ins), the day's figures and the doctor's queue: a day's visits.
            models.Index(fields=["day", "status"], name="visit_day_status_idx"),
            # A client's visits, newest first (client page timeline; return-visit default).
            models.Index(fields=["client", "-arrived_at"], name="visit_client_arrived_idx"),
            # Queue length per doctor on the triage screen: today's waiting visits of an expert.
            models.Index(fields=["expert", "day", "status"], name="visit_expert_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["registered", "waiting", "with_doctor", "done", "left"]),
                name="visit_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(visit_type__in=["first", "return", "exam", "member"]),
                name="visit_type_valid",
            ),
            # One open visit per client: two clerks registering the same person at the morning
            # peak make one visit.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=["registered", "waiting", "with_doctor"]),
                name="visit_one_open_per_client",
            ),
            # Someone waiting or seen has been sent somewhere.
            models.CheckConstraint(
                condition=Q(status__in=["registered", "left"]) | Q(department__isnull=False),
                name="visit_triaged_has_department",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.day:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("guide:visit_detail", args=[self.pk])

    @property
    def is_walk_in(self) -> bool:
        return self.booking_id is None

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.DONE, self.Status.LEFT)

    @property
    def waiting_minutes(self) -> int | None:
        """Minutes from arrival to the doctor (so far, if still waiting)."""
        if self.status in (self.Status.DONE, self.Status.WITH_DOCTOR) and self.seen_at:
            end = self.seen_at
        elif self.status in (self.Status.REGISTERED, self.Status.WAITING):
            end = timezone.now()
        else:
            return None
        return max(int((end - self.arrived_at).total_seconds() // 60), 0)


class VisitEvent(AppendOnlyModel):
    """Append-only history of a visit: arrival, triage, every state change, charges."""

    class Action(models.TextChoices):
        ARRIVED = "arrived", pgettext_lazy("visit event", "Arrived")
        TRIAGED = "triaged", pgettext_lazy("visit event", "Triaged")
        STATUS = "status", _("Status changed")
        CHARGE = "charge", _("Charge recorded")
        CHARGE_VOIDED = "charge_voided", _("Charge voided")
        # The calling station (queue numbers): each call, recall and skip of the visit's number.
        CALLED = "called", pgettext_lazy("visit event", "Called")
        RECALLED = "recalled", pgettext_lazy("visit event", "Called again")
        SKIPPED = "skipped", pgettext_lazy("visit event", "Skipped (not there)")

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=12, blank=True, choices=Visit.Status.choices
    )
    to_status = models.CharField(_("to"), max_length=12, blank=True, choices=Visit.Status.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("visit event")
        verbose_name_plural = _("visit events")
        ordering = ["at", "pk"]
        indexes = [
            # A visit's history, oldest first (visit page).
            models.Index(fields=["visit", "at"], name="visitevent_visit_at_idx"),
        ]

    def __str__(self):
        return f"{self.visit_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class Charge(models.Model):
    """One line of what a visit cost: a price-list item, its quantity and amount. Entered at the
    desk or imported from the billing system's file (`reference` is the billing line's id, so an
    import run twice adds nothing). A wrong line is voided, never deleted: VIP spend reads the
    lines that are not voided."""

    class Source(models.TextChoices):
        DESK = "desk", _("Entered at the desk")
        IMPORT = "import", _("Imported from billing")

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="charges"
    )
    # The client of the visit, kept on the line so a client's spend is one indexed sum.
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="charges",
    )
    price_item = models.ForeignKey(
        PriceItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price (yuan)"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.DESK
    )
    # NULL when entered at the desk: the unique constraint applies to imported lines only.
    reference = models.CharField(  # noqa: DJ001
        _("billing reference"), max_length=64, null=True, blank=True
    )
    charged_at = models.DateTimeField(_("charged at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)
    # The desk's charge form's one-time key (zhongdu.forms.FormKeyField): one line per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["charged_at", "pk"]
        indexes = [
            # A visit's charges (visit page), and a client's spend over a period (VIP).
            models.Index(fields=["visit"], name="charge_visit_idx"),
            models.Index(fields=["client", "charged_at"], name="charge_client_at_idx"),
            # The day's total charged (daily figures).
            models.Index(fields=["charged_at"], name="charge_charged_at_idx"),
        ]
        constraints = [
            # A billing line is imported once, however often the file is uploaded.
            models.UniqueConstraint(fields=["reference"], name="charge_reference_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="charge_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="charge_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(source__in=["desk", "import"]), name="charge_source_valid"
            ),
            # One line per charge form (a double click on "add charge" bills once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="charge_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"{self.price_item} × {self.quantity}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class MembershipCard(models.Model):
    """A membership card (会员卡): issued at the front desk, renewed, suspended. One live card per
    client; its number is the one printed on the physical card and finds the client."""

    class Level(models.TextChoices):
        STANDARD = "standard", _("Standard card")
        SILVER = "silver", _("Silver card")
        GOLD = "gold", _("Gold card")
        DIAMOND = "diamond", _("Diamond card")

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("card status", "Active")
        SUSPENDED = "suspended", pgettext_lazy("card status", "Suspended")
        CANCELLED = "cancelled", pgettext_lazy("card status", "Cancelled")

    number = models.CharField(_("card number"), max_length=20)
    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="membership_cards",
    )
    level = models.CharField(
        _("level"), max_length=10, choices=Level.choices, default=Level.STANDARD
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    fee = models.DecimalField(_("fee (yuan)"), max_digits=10, decimal_places=2, default=0)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # The issuing form's one-time key (zhongdu.forms.FormKeyField): one card per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("membership card")
        verbose_name_plural = _("membership cards")
        ordering = ["-issued_at"]
        indexes = [
            # A client's cards (client page, the one-live-card rule).
            models.Index(fields=["client", "status"], name="card_client_status_idx"),
            # Cards running out: live cards by expiry (card list filter).
            models.Index(fields=["valid_until"], name="card_valid_until_idx"),
        ]
        constraints = [
            # The number printed on the card finds one card (client search by card number).
            models.UniqueConstraint(fields=["number"], name="card_number_unique"),
            # One live card per client: a second is refused by the database.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=["active", "suspended"]),
                name="card_one_live_per_client",
            ),
            # One card per issuing form (a double click finds the card it issued).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="card_request_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "cancelled"]),
                name="card_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(level__in=["standard", "silver", "gold", "diamond"]),
                name="card_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("valid_from")), name="card_valid_until_after_from"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0), name="card_fee_not_negative"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("guide:card_detail", args=[self.pk])

    def is_expired(self, today: datetime.date | None = None) -> bool:
        return self.valid_until < (today or timezone.localdate())

    @property
    def expired(self) -> bool:
        return self.is_expired()


class MembershipCardEvent(AppendOnlyModel):
    class Action(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("card event", "Issued")
        RENEWED = "renewed", pgettext_lazy("card event", "Renewed")
        SUSPENDED = "suspended", pgettext_lazy("card event", "Suspended")
        REACTIVATED = "reactivated", pgettext_lazy("card event", "Reactivated")
        CANCELLED = "cancelled", pgettext_lazy("card event", "Cancelled")

    card = models.ForeignKey(
        MembershipCard, verbose_name=_("card"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    fee = models.DecimalField(_("fee (yuan)"), max_digits=10, decimal_places=2, default=0)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("membership card event")
        verbose_name_plural = _("membership card events")
        ordering = ["at", "pk"]
        indexes = [
            # A card's history (card page); the day's issues and renewals (daily figures).
            models.Index(fields=["card", "at"], name="cardevent_card_at_idx"),
            models.Index(fields=["at", "action"], name="cardevent_at_action_idx"),
        ]

    def __str__(self):
        return f"{self.card_id} {self.action}"


class ExamPackage(models.Model):
    """What an exam package of the price list (体检套餐) contains: administrators list its
    examination items; an order copies them, to be ticked off one by one."""

    price_item = models.OneToOneField(
        PriceItem,
        verbose_name=_("package"),
        on_delete=models.PROTECT,
        related_name="exam_package",
        limit_choices_to={"category__in": ["package", "exam"]},
    )
    items = models.ManyToManyField(
        PriceItem,
        verbose_name=_("examinations"),
        related_name="+",
        limit_choices_to={"category": "exam"},
        blank=True,
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("exam package")
        verbose_name_plural = _("exam packages")
        ordering = ["price_item__code"]

    def __str__(self):
        return str(self.price_item)


class ExamOrder(models.Model):
    """An exam card (体检卡) order for a client: its items are ticked off as they are done, the
    result summary is recorded, and a completed order waits for the post-exam service (the health
    assessment call that follow-up picks up: guide.selectors.exam_orders_awaiting_assessment)."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("exam order status", "Open")
        COMPLETED = "completed", pgettext_lazy("exam order status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("exam order status", "Cancelled")

    client = models.ForeignKey(
        "clientmgmt.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="exam_orders",
    )
    package = models.ForeignKey(
        ExamPackage,
        verbose_name=_("package"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exam_orders",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    result_summary = models.TextField(_("result summary"), blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ordered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ordered_at = models.DateTimeField(_("ordered at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set by the follow-up department when it takes the order up for the health assessment.
    assessment_started_at = models.DateTimeField(
        _("health assessment started"), null=True, blank=True
    )
    # The order form's one-time key (zhongdu.forms.FormKeyField): one order (and one charge)
    # per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("exam order")
        verbose_name_plural = _("exam orders")
        ordering = ["-ordered_at"]
        indexes = [
            # The orders list by status, newest first.
            models.Index(fields=["status", "ordered_at"], name="examorder_status_at_idx"),
            models.Index(fields=["client", "-ordered_at"], name="examorder_client_idx"),
            # The day's orders opened and completed (daily figures).
            models.Index(fields=["ordered_at"], name="examorder_ordered_at_idx"),
            models.Index(fields=["completed_at"], name="examorder_completed_at_idx"),
            # Completed orders that follow-up has not taken up yet (a small partial index).
            models.Index(
                fields=["completed_at"],
                condition=Q(status="completed", assessment_started_at__isnull=True),
                name="examorder_awaiting_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "completed", "cancelled"]),
                name="examorder_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="examorder_completed_has_time",
            ),
            # One order per order form (a double click orders and charges once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="examorder_request_key_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.package or ''}".strip()

    def get_absolute_url(self):
        return reverse("guide:exam_detail", args=[self.pk])


class ExamOrderItem(models.Model):
    order = models.ForeignKey(
        ExamOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="items"
    )
    price_item = models.ForeignKey(
        PriceItem, verbose_name=_("examination"), on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("exam order item")
        verbose_name_plural = _("exam order items")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "price_item"], name="examorderitem_order_item_unique"
            ),
        ]

    def __str__(self):
        return str(self.price_item)


class ChargeImport(models.Model):
    """A billing-system file of charges: parsed and checked at upload (the preview shows each
    row's errors), written when staff confirm. Its rows hold visit numbers, price codes and
    amounts only, no personal data."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Waiting for confirmation")
        DONE = "done", pgettext_lazy("charge import status", "Imported")

    token = models.UUIDField(default=uuid.uuid4, editable=False)
    file_name = models.CharField(_("file"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREVIEW
    )
    # [{"row": 2, "visit": 12, "code": "GH001", "quantity": 1, "amount": "20.00",
    #   "reference": "B-1", "charged_at": "2026-11-29T09:00:00+08:00", "errors": [...]}, ...]
    rows = models.JSONField(_("rows"), default=list)
    result = models.JSONField(_("result"), default=dict, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    # The upload form's one-time key (zhongdu.forms.FormKeyField): one import per upload.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("charge import")
        verbose_name_plural = _("charge imports")
        ordering = ["-uploaded_at"]
        constraints = [
            # The page address: unguessable, unlike the row id.
            models.UniqueConstraint(fields=["token"], name="chargeimport_token_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["preview", "done"]), name="chargeimport_status_valid"
            ),
            # One import per upload form (a double click on "upload" uploads once).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="chargeimport_request_key_unique",
            ),
        ]

    def __str__(self):
        return self.file_name

    def get_absolute_url(self):
        return reverse("guide:charge_import_detail", args=[self.token])


# --- Queue numbers and calling ----------------------------------------------------------


class QueueCounter(models.Model):
    """A department's queue on one day: the last number given out (the next triage takes the one
    after it, under this row's lock) and the queue's version, which every change to the queue's
    tickets raises (the display and the station poll it; an unchanged version: an empty answer)."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)
    version = models.PositiveBigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("queue counter")
        verbose_name_plural = _("queue counters")
        constraints = [
            # One counter per department and day: the lock numbers are taken under, and the
            # polls' one indexed lookup of the version.
            models.UniqueConstraint(
                fields=["department", "day"], name="queuecounter_dept_day_unique"
            ),
        ]

    def __str__(self):
        return f"{self.department_id} {self.day:%Y-%m-%d} #{self.last_number}"


class QueueTicket(models.Model):
    """A triaged visit's queue number in its department for the day. The number is kept through
    calls, recalls and skips (a patient called back after a skip keeps it); a visit sent to
    another department gets a new number there and this one is cancelled."""

    class Status(models.TextChoices):
        WAITING = "waiting", pgettext_lazy("queue ticket", "Waiting")
        CALLED = "called", pgettext_lazy("queue ticket", "Called")
        SKIPPED = "skipped", pgettext_lazy("queue ticket", "Skipped")
        DONE = "done", pgettext_lazy("queue ticket", "Seen")
        CANCELLED = "cancelled", pgettext_lazy("queue ticket", "Cancelled")

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="queue_tickets"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    number = models.PositiveIntegerField(_("queue number"))
    # The doctor the triage chose; none when any doctor of the department may see the patient.
    expert = models.ForeignKey(
        Expert,
        verbose_name=_("doctor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    calls = models.PositiveSmallIntegerField(_("times called"), default=0)
    called_at = models.DateTimeField(_("last called at"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("given at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("queue number")
        verbose_name_plural = _("queue numbers")
        ordering = ["day", "department", "number"]
        indexes = [
            # The calling station's and the display's list: a department's live tickets today.
            models.Index(fields=["department", "day", "status"], name="queueticket_dept_day_idx"),
            # A visit's live ticket (re-triage, a visit leaving).
            models.Index(fields=["visit", "status"], name="queueticket_visit_status_idx"),
        ]
        constraints = [
            # A number is given once per department and day, however many clerks triage at once.
            models.UniqueConstraint(
                fields=["department", "day", "number"], name="queueticket_dept_day_number_unique"
            ),
            # A visit holds at most one live number.
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(status__in=["waiting", "called", "skipped"]),
                name="queueticket_one_live_per_visit",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "called", "skipped", "done", "cancelled"]),
                name="queueticket_status_valid",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="queueticket_number_positive"),
        ]

    def __str__(self):
        return f"{self.number:03d}"

    @property
    def label(self) -> str:
        """The number as the display and the station show it: 007."""
        return f"{self.number:03d}"

    @property
    def state(self) -> str:
        """What the station showed of the number when its buttons were drawn ("called:2"): an
        action posted with a state the number has left is a second click and changes nothing."""
        return f"{self.status}:{self.calls}"


def new_display_token() -> str:
    return secrets.token_urlsafe(32)


class DisplayScreen(models.Model):
    """A waiting-room screen: it opens the display of its department by an unguessable link that
    an administrator makes per screen (no sign-in on the screen) and may revoke."""

    name = models.CharField(_("name"), max_length=60, help_text=_("Where the screen hangs."))
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="display_screens",
    )
    token = models.CharField(max_length=64, default=new_display_token, editable=False)
    created_at = models.DateTimeField(_("made at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # The screen form's one-time key (zhongdu.forms.FormKeyField): one screen per form.
    request_key = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("display screen")
        verbose_name_plural = _("display screens")
        ordering = ["department", "name"]
        constraints = [
            # The display's address: its every poll looks the screen up by this token.
            models.UniqueConstraint(fields=["token"], name="displayscreen_token_unique"),
            # One screen per form (a double click on "make" makes one).
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~Q(request_key=""),
                name="displayscreen_request_key_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("guide:display", args=[self.token])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
