"""The navigation: every section of the product, shown to a user only where the access table
lets them in. A section whose URL is not installed yet is left out."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .roles import user_may_open

# (URL name, label, one-line description for the home page). Later apps add their sections here.
SECTIONS = [
    ("home", _("Workbench"), _("Your work for today.")),
    ("clientmgmt:client_list", _("Clients"), _("Find a client by name, pinyin, phone or ID card.")),
    (
        "guide:today",
        _("Arrivals"),
        _("Today's bookings and walk-ins: check in, register, triage, follow them through."),
    ),
    (
        "consult:queue",
        _("Enquiries"),
        _("Call-backs due, online booking requests, and the call screen."),
    ),
    (
        "consult:booking_list",
        _("Bookings"),
        _("The day's bookings by department, expert and status."),
    ),
    (
        "consult:stats",
        _("Consultation analysis"),
        _("Enquiries, bookings, arrivals and conversion by consultant and channel."),
    ),
    (
        "guide:card_list",
        _("Membership cards"),
        _("Issue, renew and suspend cards; find a member by card number."),
    ),
    (
        "guide:exam_list",
        _("Exam orders"),
        _("Exam cards: their examinations ticked off, results, post-exam service."),
    ),
    (
        "guide:daily",
        _("Daily figures"),
        _("The day's arrivals, bookings, no-shows, waiting times, cards and exams."),
    ),
    (
        "knowledge_desk",
        _("Knowledge desk"),
        _("Prices, departments, experts and this week's sessions, as a caller asks."),
    ),
    ("messaging:outbox_list", _("SMS"), _("Every message sent, waiting or failed; campaigns.")),
    ("audit_event_list", _("Audit trail"), _("Who looked at or changed which record, and when.")),
    ("admin:index", _("Administration"), _("Departments, experts, prices, users and schedules.")),
]


def sections_for(user):
    sections = []
    for url_name, label, description in SECTIONS:
        if not user_may_open(user, url_name):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        sections.append(
            {"url_name": url_name, "url": url, "label": label, "description": description}
        )
    return sections
