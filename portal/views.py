"""Signing in and out of the portal, and its home page. Each part's pages live in their own
module (bookings, consult, results, data)."""

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhongdu import phones
from zhongdu.audit import client_ip

from . import services
from .forms import CodeForm, PhoneForm
from .home import home_cards
from .middleware import COOKIE, COOKIE_PATH, set_session_cookie
from .selectors import portal_people

PENDING = "zd_my_code"
PENDING_SALT = "portal.sign-in-code"


def _pending(request) -> dict | None:
    """The code asked for in this browser: {"id", "phone"}, from a signed cookie."""
    try:
        return signing.loads(
            request.COOKIES.get(PENDING, ""),
            salt=PENDING_SALT,
            max_age=settings.PORTAL_CODE_MINUTES * 60,
        )
    except signing.BadSignature:
        return None


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if safe and target.startswith(COOKIE_PATH) else reverse("portal:home")


@require_http_methods(["GET", "POST"])
def login(request):
    if request.patient is not None:
        return redirect("portal:home")
    form = PhoneForm(request.POST or None)
    context = {"form": form, "next": _next(request), "lapsed": request.GET.get("lapsed")}
    if request.method == "GET" or not form.is_valid():
        return render(request, "portal/login.html", context, status=422 if form.errors else 200)
    try:
        signin = services.code_request(phone=form.cleaned_data["phone"], ip=client_ip(request))
    except services.Refused as refusal:
        form.add_error(None, refusal)
        return render(request, "portal/login.html", context, status=429)
    response = redirect(f"{reverse('portal:login_code')}?{urlencode({'next': context['next']})}")
    pending = signing.dumps({"id": signin.pk, "phone": signin.phone}, salt=PENDING_SALT)
    response.set_cookie(
        PENDING,
        pending,
        max_age=settings.PORTAL_CODE_MINUTES * 60,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@require_http_methods(["GET", "POST"])
def login_code(request):
    pending = _pending(request)
    if pending is None:
        return redirect("portal:login")
    form = CodeForm(request.POST or None)
    context = {
        "form": form,
        "next": _next(request),
        "masked_phone": phones.mask(pending["phone"]),
        "phone": pending["phone"],
    }
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "portal/login_code.html", context, status=422 if form.errors else 200
        )
    verified = services.code_verify(
        code_id=pending["id"], code=form.cleaned_data["code"], ip=client_ip(request)
    )
    if verified.client is None:
        form.add_error(None, verified.refusal)
        return render(request, "portal/login_code.html", context, status=422)
    _session, token = services.session_start(
        client=verified.client,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = redirect(context["next"])
    set_session_cookie(response, token)
    response.delete_cookie(PENDING, path=COOKIE_PATH)
    return response


@require_POST
def logout(request):
    if request.patient is not None:
        services.session_end(session=request.patient.session)
    response = redirect("portal:login")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@require_GET
def home(request):
    patient = request.patient
    context = {"cards": home_cards(patient), "people": portal_people(patient.client)}
    return render(request, "portal/home.html", context)


@require_POST
def switch(request):
    """Show another of the people this person may see (their own record or a dependant's)."""
    people = {str(person.pk): person for person in portal_people(request.patient.client)}
    subject = people.get(request.POST.get("subject", ""))
    if subject is None:
        raise Http404
    services.session_switch(session=request.patient.session, subject=subject)
    return redirect("portal:home")
