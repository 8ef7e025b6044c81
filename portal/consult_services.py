"""The online consultation's writes: a person asks (text and photos) or writes again; staff take
or assign a thread, answer it (the person is told by an SMS with no health content), close it,
or turn it into a booking. Status changes go through `thread_set_status` only, each with its
event in the thread's history (ConsultEvent), in the change's transaction."""

import datetime
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from clientmgmt.models import Client
from messaging.models import Purpose
from messaging.services import outbox_enqueue, template_available
from zhongdu import audit, private_files
from zhongdu.services import create_once
from zhongdu.workcalendar import WorkCalendar

from .models import ConsultEvent, ConsultMessage, ConsultPhoto, ConsultThread
from .services import portal_username

Status = ConsultThread.Status
Action = ConsultEvent.Action

# The moves a thread may make (CONVENTIONS 5). The person writing again re-opens an answered
# thread; a closed one stays closed (they start a new question).
TRANSITIONS = {
    Status.OPEN: {Status.ANSWERED, Status.CLOSED},
    Status.ANSWERED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}

ANSWER_TEMPLATE = "portal_consult_answer"
PHOTO_CATEGORY = "consult-photos"
# What the bytes say, not what the browser claims: Pillow's format name -> the type we keep.
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
# A photo of more pixels than this is refused before it is decoded (a "decompression bomb").
MAX_PHOTO_PIXELS = 50_000_000
# Photos are kept at most this wide or high: enough to see a skin change, a tenth of the bytes.
KEEP_PIXELS = 2560
MAX_PHOTOS = 4
MAX_TEXT = 2000


@dataclass
class Photo:
    """A photo ready to keep: re-encoded bytes without metadata, with what we record of it."""

    data: bytes
    content_type: str
    width: int
    height: int


NOT_A_PHOTO = _("Only photos in JPEG or PNG format can be attached (%(name)s is not one).")


def photo_clean(data: bytes, name: str = "") -> Photo:
    """Check an uploaded file is a JPEG or PNG by its bytes and within the size limit, then
    re-encode it: the EXIF block (location, camera, time) and any other metadata are not
    carried over; the orientation is applied to the pixels first so the photo stays upright."""
    if len(data) > settings.ONLINE_CONSULT_PHOTO_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB: take the photo again at a smaller size.")
            % {"name": name, "mb": settings.ONLINE_CONSULT_PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            kind = image.format
            if kind not in PHOTO_TYPES or image.width * image.height > MAX_PHOTO_PIXELS:
                raise ValidationError(NOT_A_PHOTO % {"name": name})
            image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise ValidationError(NOT_A_PHOTO % {"name": name}) from None
    image = ImageOps.exif_transpose(image)
    image.thumbnail((KEEP_PIXELS, KEEP_PIXELS))
    out = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
    else:
        # Without pnginfo or exif Pillow writes no text or eXIf chunk.
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
    return Photo(out.getvalue(), PHOTO_TYPES[kind], image.width, image.height)


def answer_due(asked_at: datetime.datetime) -> datetime.datetime:
    return WorkCalendar.load().add_working_hours(asked_at, settings.ONLINE_CONSULT_ANSWER_HOURS)


def _event(thread, action, *, by=None, from_status="", to_status="", detail="") -> ConsultEvent:
    return ConsultEvent.objects.create(
        thread=thread,
        action=action,
        by=by,
        from_status=from_status,
        to_status=to_status,
        detail=str(detail)[:200],
    )


def thread_set_status(*, thread: ConsultThread, new_status: str, action: str, by=None):
    """Move the thread (locked by the caller's transaction) to `new_status` and record it;
    refused when TRANSITIONS does not allow the move."""
    if new_status == thread.status:
        return thread
    if new_status not in TRANSITIONS[thread.status]:
        raise ValidationError(
            _("This consultation is %(status)s: that cannot be done now.")
            % {"status": thread.get_status_display()}
        )
    old = thread.status
    thread.status = new_status
    if new_status == Status.CLOSED:
        thread.closed_at = timezone.now()
    thread.save(update_fields=["status", "closed_at"])
    _event(thread, action, by=by, from_status=old, to_status=new_status)
    return thread


def _add_message(thread, *, text, photos, author=None, key="", now) -> ConsultMessage:
    message = ConsultMessage.objects.create(
        thread=thread, author=author, text=text, created_at=now, request_key=key
    )
    for photo in photos:
        ConsultPhoto.objects.create(
            message=message,
            file=private_files.save(PHOTO_CATEGORY, photo.data),
            content_type=photo.content_type,
            size=len(photo.data),
            width=photo.width,
            height=photo.height,
        )
    return message


def _check_text(text: str, photos) -> str:
    text = (text or "").strip()
    if not text and not photos:
        raise ValidationError(_("Write your question or attach a photo."))
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Keep a message under %(n)s characters.") % {"n": MAX_TEXT})
    return text


def thread_ask(*, client: Client, text: str, photos: list[Photo], key: str = "") -> ConsultThread:
    """A new question from the person (their record or a dependant's they may see)."""
    text = _check_text(text, photos)
    now = timezone.now()

    def create():
        thread = ConsultThread.objects.create(
            client=client,
            title=(text.splitlines()[0] if text else str(_("A photo")))[:60],
            created_at=now,
            last_message_at=now,
            first_answer_due_at=answer_due(now),
            request_key=key,
        )
        _add_message(thread, text=text, photos=photos, now=now)
        _event(thread, Action.ASKED, to_status=Status.OPEN)
        return thread

    thread, created = create_once(ConsultThread, key, create)
    if created:
        audit.record(
            audit.Action.CREATE, obj=thread, username=portal_username(client), fields=["text"]
        )
    return thread


def thread_write(*, thread: ConsultThread, text: str, photos: list[Photo], key: str = ""):
    """The person writes again in their thread: an answered thread is waiting for the desk
    again. Refused on a closed thread."""
    text = _check_text(text, photos)
    now = timezone.now()

    def create():
        locked = ConsultThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == Status.CLOSED:
            raise ValidationError(
                _("This consultation is closed. Ask a new question if you need to.")
            )
        message = _add_message(locked, text=text, photos=photos, key=key, now=now)
        if locked.status == Status.ANSWERED:
            thread_set_status(thread=locked, new_status=Status.OPEN, action=Action.WROTE)
        else:
            _event(locked, Action.WROTE)
        ConsultThread.objects.filter(pk=locked.pk).update(last_message_at=now)
        return message

    with transaction.atomic():
        message, created = create_once(ConsultMessage, key, create)
    if created:
        audit.record(
            audit.Action.UPDATE,
            obj=thread,
            username=portal_username(thread.client),
            fields=["text"],
        )
    return message


def thread_assign(*, thread: ConsultThread, to, by) -> ConsultThread:
    """Take a thread (`to` is `by`) or hand it to a consultant."""
    with transaction.atomic():
        locked = ConsultThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == Status.CLOSED:
            raise ValidationError(_("This consultation is closed."))
        locked.assigned_to = to
        locked.save(update_fields=["assigned_to"])
        _event(locked, Action.ASSIGNED, by=by, detail=to.get_full_name() or to.get_username())
    audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["assigned_to"])
    return locked


def thread_answer(*, thread: ConsultThread, text: str, by, key: str = "") -> ConsultMessage:
    """A staff answer. The first one stops the deadline's clock; the thread is answered (the
    person told once per answer they have not seen, by an SMS that says only that there is an
    answer); an unassigned thread becomes the answerer's."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write the answer."))
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Keep a message under %(n)s characters.") % {"n": MAX_TEXT})
    now = timezone.now()

    def create():
        locked = ConsultThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == Status.CLOSED:
            raise ValidationError(_("This consultation is closed."))
        message = _add_message(locked, text=text, photos=[], author=by, key=key, now=now)
        # Told once until they look: a second answer before they read the first sends nothing.
        tell = not locked.unread
        locked.first_answered_at = locked.first_answered_at or now
        locked.answered_at = now
        locked.last_message_at = now
        locked.assigned_to = locked.assigned_to or by
        locked.save(
            update_fields=["first_answered_at", "answered_at", "last_message_at", "assigned_to"]
        )
        if locked.status == Status.OPEN:
            thread_set_status(
                thread=locked, new_status=Status.ANSWERED, action=Action.ANSWERED, by=by
            )
        else:
            _event(locked, Action.ANSWERED, by=by)
        if tell:
            _tell_answered(locked, message)
        return message

    with transaction.atomic():
        message, created = create_once(ConsultMessage, key, create)
    if created:
        audit.record(audit.Action.UPDATE, actor=by, obj=thread, fields=["text"])
    return message


def _tell_answered(thread: ConsultThread, message: ConsultMessage) -> None:
    """The SMS that an answer is waiting: the hospital's name and where to look, never a word of
    the question or the answer. Sent as a service notice: the send-time rules hold it when the
    person refused service SMS or opted out."""
    common = {
        "idempotency_key": f"portal-consult-answer:{message.pk}",
        "purpose": Purpose.OTHER,
        "client": thread.client,
    }
    if template_available(ANSWER_TEMPLATE):
        outbox_enqueue(template_code=ANSWER_TEMPLATE, **common)
    else:
        from messaging.services import hospital_placeholder_values

        values = hospital_placeholder_values()
        body = _(
            "%(signature)sThe question you asked %(hospital)s online has an answer: sign in to "
            "the online hospital to read it."
        ) % {"signature": values.get("signature", ""), "hospital": values.get("hospital", "")}
        outbox_enqueue(body=str(body), **common)


def thread_close(*, thread: ConsultThread, by) -> ConsultThread:
    with transaction.atomic():
        locked = ConsultThread.objects.select_for_update().get(pk=thread.pk)
        thread_set_status(thread=locked, new_status=Status.CLOSED, action=Action.CLOSED, by=by)
    audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"])
    return locked


def thread_booking_started(*, thread: ConsultThread, by) -> ConsultThread:
    """Staff turn the thread into a booking: recorded on the thread (once), then they book on
    the consultation desk's booking form for the client."""
    with transaction.atomic():
        locked = ConsultThread.objects.select_for_update().get(pk=thread.pk)
        if locked.booking_started_at is None:
            locked.booking_started_at = timezone.now()
            locked.save(update_fields=["booking_started_at"])
        _event(locked, Action.BOOKING, by=by)
    return locked


def thread_seen(*, thread: ConsultThread) -> None:
    """The person opened the thread: its answers are read."""
    if thread.unread:
        now = timezone.now()
        ConsultThread.objects.filter(pk=thread.pk).update(patient_seen_at=now)
        thread.patient_seen_at = now
