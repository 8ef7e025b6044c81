"""The one API to write the audit trail.

    audit.record(AuditEvent.Action.VIEW, actor=request.user, obj=client, request=request)

Writes one append-only row. Call it inside the transaction of the change it records, so a change
that rolls back leaves no audit row, and a change that commits always has one.
"""

import functools
import ipaddress
import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy

from .models import AuditEvent

Action = AuditEvent.Action


@functools.cache
def object_types() -> dict:
    """What the trail's object types are called on staff pages, lazily translated, for the
    project's own apps: each model's verbose name (audit.record(obj=...) writes its label, e.g.
    "clientmgmt.client") and the types an app declares for what is not a model (its AppConfig's
    audit_object_types: an export, a report page). Sorted by type, not by name: the names depend
    on the viewer's language."""
    types = {}
    for app_config in apps.get_app_configs():
        if Path(app_config.path).parent != Path(settings.BASE_DIR):
            continue  # Django's and the libraries' apps
        for model in app_config.get_models():
            types[model._meta.label_lower] = capfirst(model._meta.verbose_name)
        types.update(getattr(app_config, "audit_object_types", {}))
    return dict(sorted(types.items()))


def changed_field_labels(object_type: str, fields) -> list:
    """The changed fields as staff name them: the model's verbose names, and for what is not a
    field (a merge, the encrypted ID number) the model's AUDIT_FIELD_LABELS; anything else as
    written."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return list(fields)
    extra = getattr(model, "AUDIT_FIELD_LABELS", {})
    labels = []
    for name in fields:
        if name in extra:
            labels.append(extra[name])
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            labels.append(name)
            continue
        # A relation's reverse side (an order's "results") has no verbose name: as written.
        labels.append(capfirst(getattr(field, "verbose_name", name)))
    return labels


def object_type_label(object_type: str):
    """How staff name an audited object type ("clientmgmt.client" -> "Client"); any other
    installed model by its verbose name; an unknown type as written."""
    if object_type in object_types():
        return object_types()[object_type]
    try:
        return capfirst(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def note(what: str, **values) -> str:
    """The object of an event that is not one record (an export of a search or of a list) as
    data rather than prose: what it was and its figures, e.g. note("clientmgmt.search",
    kind="name", rows=1). The trail says it in the reader's language (describe()). `what` is a
    key of an app's AppConfig.audit_notes."""
    return json.dumps({"note": what, **values}, ensure_ascii=False, sort_keys=True)


@functools.cache
def _describers() -> dict:
    """{note: function(**values) -> text}, from the apps' AppConfig.audit_notes (dotted paths:
    the describers live beside the code that writes the note)."""
    describers = {}
    for app_config in apps.get_app_configs():
        for what, path in getattr(app_config, "audit_notes", {}).items():
            describers[what] = import_string(path)
    return describers


def describe(object_repr: str) -> str:
    """An event's object as staff read it: a note() in the viewer's language, anything else as
    it was written (a record's name, a refused page's address)."""
    if not object_repr.startswith("{"):
        return object_repr
    try:
        values = json.loads(object_repr)
        describer = _describers()[values.pop("note")]
        return str(describer(**values))
    except (ValueError, KeyError, TypeError, AttributeError):
        return object_repr  # not a note, or one no app describes (any more)


# The actor of what a patient does on their own pages (portal.services.portal_username: no staff
# user), which the trail names in the reader's language.
PATIENT_ACTOR_PREFIX = "portal:"


def actor_label(username: str) -> str:
    """Who acted, as staff read it: a username, or the client themselves on the portal."""
    if username.startswith(PATIENT_ACTOR_PREFIX):
        return str(gettext_lazy("The client, on the online hospital"))
    return username


def client_ip(request):
    """The address of the person at the keyboard.

    Behind DJANGO_PROXY_COUNT trusted proxies, REMOTE_ADDR is the nearest proxy's address and the
    client's is the entry that many places from the end of X-Forwarded-For (entries further left
    are whatever the client claimed, so they are never trusted). Also used by django-axes, so a
    lockout is per real client, not per proxy.
    """
    proxies = settings.DJANGO_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
            return forwarded[-proxies]
    remote = request.META.get("REMOTE_ADDR") or ""
    return remote if _is_ip(remote) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# The username field of the sign-in form: the first ("auth") step of django-two-factor-auth's
# sign-in wizard, whose forms are prefixed with their step's name.
SIGN_IN_USERNAME_FIELD = "auth-username"


def axes_username(request, credentials) -> str:
    """The username axes records, cut to what a username can be (its column is 255 long, and
    anyone may type anything into the sign-in form). Axes passes the credentials given to
    authenticate() when it has them (their key is "username", whatever the form), and otherwise
    the request, whose sign-in form is the wizard's."""
    if credentials is not None:
        username = credentials.get("username")
    else:
        username = request.POST.get(SIGN_IN_USERNAME_FIELD)
    return str(username or "")[:150]


def record(
    action,
    *,
    actor=None,
    obj=None,
    object_type="",
    object_id="",
    object_repr="",
    fields=(),
    reason="",
    request=None,
    username="",
):
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if actor is not None and not actor.is_authenticated:
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if not object_repr:
            # The trail is kept in the hospital's language, whichever language the person
            # acting reads (a record's name can be a translated label).
            with translation.override(settings.LANGUAGE_CODE):
                object_repr = str(obj)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_username=(actor.get_username() if actor else username)[:150],
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        object_repr=object_repr[:200],
        changed_fields=sorted(fields),
        reason=reason[:200],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else "",
    )
