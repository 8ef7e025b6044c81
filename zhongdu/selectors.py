import datetime
import logging

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditEvent, Notification

logger = logging.getLogger(__name__)

# The badge counts up to this many unread notifications (and shows 99+): a bounded COUNT.
BADGE_LIMIT = 100


def audit_event_list(*, filters: dict | None = None) -> QuerySet[AuditEvent]:
    """Audit events, newest first, narrowed by the audit page's filter form."""
    filters = filters or {}
    qs = AuditEvent.objects.select_related("actor").order_by("-id")
    if filters.get("username"):
        qs = qs.filter(actor_username=filters["username"])
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("object_type"):
        qs = qs.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        qs = qs.filter(object_id=filters["object_id"])
    # Whole days in the hospital's time zone, as a range on the raw column so that the index
    # on occurred_at serves it (a __date lookup would wrap the column in a time-zone cast).
    if filters.get("date_from"):
        qs = qs.filter(occurred_at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(occurred_at__lt=_start_of(filters["date_to"] + datetime.timedelta(days=1)))
    return qs


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def notifications_for(user) -> QuerySet[Notification]:
    """The user's notifications, newest first (keyset by id: zhongdu.pagination)."""
    return Notification.objects.filter(recipient=user).order_by("-id")


def notifications_unread_count(user) -> int:
    """Unread notifications of the user, counted up to BADGE_LIMIT: kept in the cache until one
    of the user's notifications is written or read (zhongdu.services forgets the count then), so
    the badge on every page costs no query while nothing changed; else one query on the partial
    index notification_unread_idx."""
    key = badge_cache_key(user.pk)
    count = cache_call(cache.get, key)
    if count is None:
        unread = Notification.objects.filter(recipient=user, read_at__isnull=True).order_by()
        count = unread[:BADGE_LIMIT].count()
        cache_call(cache.set, key, count, BADGE_CACHE_SECONDS)
    return count


def cache_call(method, *args):
    """A call on the cache that a cache out of service (Redis down) turns into None and a
    warning: the badge is then counted on every page, as before it was kept; no page fails."""
    try:
        return method(*args)
    except Exception:  # the backend's own errors (redis.ConnectionError, ...)
        logger.warning("The cache did not answer %s", method.__name__, exc_info=True)
        return None


# How long a kept count may live: a reader that counted just before a write committed can keep
# the old count after the write forgot it; no longer than this.
BADGE_CACHE_SECONDS = 60


def badge_cache_key(user_id) -> str:
    return f"zhongdu:notifications-unread:{user_id}"


def notification_get_for_user(user, pk) -> Notification | None:
    try:
        return Notification.objects.get(recipient=user, pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError):
        return None
