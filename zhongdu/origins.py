"""A record made on a hotline call (an enquiry on the call screen, a complaint from a voicemail)
tells the app that owns calls, without the layers below knowing it.

The pop and the callback tasks open the call screen or the complaint form with `?call=<id>`, an
opaque reference that the page keeps in its address while the form is filled in; once the record
is made, the page sends `made_on_call`, and the voice app links the call to it (and gives an
enquiry its duration from the call)."""

from django.dispatch import Signal

from .converters import row_id

# Sent with sender=the record's model, record=the new record, call=the reference, by=the user.
made_on_call = Signal()
# Asked before a page draws its form: will what it records be linked to the call? Sent with
# call=the reference, by=the user, phone and client_id (the caller the page is about); a
# receiver answers True when it will (the voice app: voice.services.call_may_link).
call_asked = Signal()

PARAMETER = "call"


def call_reference(request) -> str:
    """The call a page was opened from (`?call=`), or "" when there is none or it is not one."""
    value = request.GET.get(PARAMETER, "")
    return value if row_id(value) is not None else ""


def will_link(request, *, phone: str = "", client_id=None) -> bool:
    """Whether the page `request` opened from a call will link what it records to the call
    (then an enquiry's duration is the call's, not typed)."""
    reference = call_reference(request)
    if not reference:
        return False
    answers = call_asked.send(
        None, call=reference, by=request.user, phone=phone, client_id=client_id
    )
    return any(answer for _receiver, answer in answers)


def tell(request, record) -> None:
    """After `record` was made on the page `request` opened: the call it came from, if any."""
    reference = call_reference(request)
    if reference:
        made_on_call.send(type(record), record=record, call=reference, by=request.user)
