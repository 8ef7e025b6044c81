"""The online consultation's reads: the person's threads (always those of
`request.patient.subject`), and the staff inbox and thread through the client access helpers
(a VIP's thread opens only for those the discretion rule lets see the whole record)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from clientmgmt.selectors import client_get_for_user, clients_shown_for_user
from zhongdu import exports, private_files, roles

from .models import ConsultMessage, ConsultPhoto, ConsultThread

Status = ConsultThread.Status

UNREAD = Q(answered_at__isnull=False) & (
    Q(patient_seen_at__isnull=True) | Q(answered_at__gt=F("patient_seen_at"))
)


def threads_for_patient(client):
    """The person's threads, newest first (keyset-paged by key)."""
    return ConsultThread.objects.filter(client=client).order_by("-id")


def thread_for_patient(client, token: str) -> ConsultThread:
    """The person's thread named by its token; 404 for anyone else's."""
    thread = ConsultThread.objects.filter(client=client, token=str(token)[:32]).first()
    if thread is None:
        raise Http404
    return thread


def unread_answers(client) -> int:
    return ConsultThread.objects.filter(UNREAD, client=client).count()


def thread_messages(thread: ConsultThread) -> list[ConsultMessage]:
    """The thread's messages in order, with their photos and authors (two queries)."""
    return list(
        ConsultMessage.objects.filter(thread=thread)
        .select_related("author")
        .prefetch_related(Prefetch("photos", queryset=ConsultPhoto.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )


def photo_response(request, thread, pk, audit_read):
    """A photo of `thread` (already checked for the reader), decrypted and shown inline, its
    read audited by `audit_read(request, thread, "photo")`; 404 when the file is gone."""
    photo = photo_of(thread, pk)
    try:
        data = private_files.read(photo.file)
    except FileNotFoundError:
        raise Http404 from None
    audit_read(request, thread, "photo")
    return exports.private_download(
        data, content_type=photo.content_type, filename=f"photo-{photo.pk}", inline=True
    )


def photo_of(thread: ConsultThread, pk) -> ConsultPhoto:
    try:
        return ConsultPhoto.objects.get(pk=int(pk), message__thread=thread)
    except (ConsultPhoto.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- Staff ---------------------------------------------------------------------------------

INBOX_TABS = ("waiting", "mine", "answered", "closed")


def inbox(user, tab: str):
    """The inbox's threads for a tab: waiting for the desk, assigned to the user and not closed,
    answered, closed; newest first (keyset-paged by key)."""
    threads = ConsultThread.objects.select_related("client", "assigned_to").order_by("-id")
    if tab == "mine":
        return threads.filter(assigned_to=user).exclude(status=Status.CLOSED)
    if tab == "answered":
        return threads.filter(status=Status.ANSWERED)
    if tab == "closed":
        return threads.filter(status=Status.CLOSED)
    return threads.filter(status=Status.OPEN)


def inbox_figures() -> dict:
    """How many threads wait for the desk, and how many of them are past the first answer's
    deadline (open threads are few: one indexed count each)."""
    waiting = ConsultThread.objects.filter(status=Status.OPEN)
    late = waiting.filter(first_answered_at__isnull=True, first_answer_due_at__lte=timezone.now())
    return {"waiting": waiting.count(), "late": late.count()}


def inbox_rows(user, threads) -> list[dict]:
    """The rows of a page of threads, each client as `user` may see them (the discretion rule
    asked once for the page)."""
    threads = list(threads)
    shown = clients_shown_for_user(user, [thread.client for thread in threads])
    now = timezone.now()
    return [
        {"thread": thread, "client": client, "late": thread.is_late(now)}
        for thread, client in zip(threads, shown, strict=True)
    ]


def thread_get_for_user(user, pk) -> ConsultThread:
    """A thread for a staff page: 404 if there is none, 403 unless the user may see its client's
    whole record (a VIP's thread opens for those who serve them: its photos are health data)."""
    try:
        thread = ConsultThread.objects.select_related("assigned_to").get(pk=int(pk))
    except (ConsultThread.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    thread.client = client_get_for_user(user, thread.client_id, whole=True)
    return thread


def consultants():
    """Whom a thread may be assigned to: the active users of the desk's roles."""
    users = get_user_model().objects.filter(
        is_active=True, groups__name__in=sorted(roles.ONLINE_CONSULT_DESK)
    )
    return users.distinct().order_by("username")


def consultant_get(pk):
    found = consultants().filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise PermissionDenied
    return found
