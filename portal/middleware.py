"""Who is signed in to the portal: `request.patient` (selectors.Patient or None), read from the
portal's own cookie. The cookie is scoped to /my/, so it never reaches a staff page, and staff
pages read `request.user` only: a patient session never satisfies them
(zhongdu.roles.PATIENT pages, in turn, ask for `request.patient`)."""

from django.conf import settings

from .selectors import patient_from_token

COOKIE = "zd_my"
COOKIE_PATH = "/my/"


class PatientSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.patient, request.patient_lapsed = None, False
        if request.path_info.startswith(COOKIE_PATH):
            request.patient, request.patient_lapsed = patient_from_token(
                request.COOKIES.get(COOKIE, "")
            )
        response = self.get_response(request)
        if request.patient_lapsed and COOKIE in request.COOKIES:
            response.delete_cookie(COOKIE, path=COOKIE_PATH)
        return response


def set_session_cookie(response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.PORTAL_SESSION_LIFETIME_HOURS * 3600,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
