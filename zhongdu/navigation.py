"""The navigation: every section of the product, shown to a user only where the access table
lets them in. A section whose URL is not installed yet is left out."""

from functools import lru_cache

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .roles import roles_may_open, user_roles

# (URL name, label, one-line description for the home page[, menu group]). Later apps add their
# sections here. Sections of one group sit together and show as one drop-down in the navigation
# bar (a bar of a dozen links does not fit a 1366-pixel screen); the home page lists them all.
FRONT_DESK_GROUP = _("Front desk")
CONSULTATION_GROUP = _("Consultation")
CLIENT_MANAGEMENT_GROUP = _("Client management")
# "VIP" alone is a column's word (a client who is one); the menu is the VIP desk's section.
VIP_GROUP = pgettext_lazy("section", "VIP")
SECTIONS = [
    ("home", _("Workbench"), _("Your work for today.")),
    ("clientmgmt:client_list", _("Clients"), _("Find a client by name, pinyin, phone or ID card.")),
    (
        "guide:today",
        _("Today's board"),
        _("Today's bookings and walk-ins: check in, register, triage, follow them through."),
        FRONT_DESK_GROUP,
    ),
    (
        "guide:card_list",
        _("Membership cards"),
        _("Issue, renew and suspend cards; find a member by card number."),
        FRONT_DESK_GROUP,
    ),
    (
        "guide:exam_list",
        _("Exam orders"),
        _("Exam cards: their examinations ticked off, results, post-exam service."),
        FRONT_DESK_GROUP,
    ),
    (
        "exams:results_worklist",
        _("Exam results"),
        _("Exam orders whose results are still to enter or wait for a clinician's release."),
        FRONT_DESK_GROUP,
    ),
    (
        "guide:calling",
        _("Calling station"),
        _("Call the patients waiting for your department by their queue numbers."),
        FRONT_DESK_GROUP,
    ),
    (
        "guide:display_list",
        _("Waiting-room screens"),
        _("The links that open the queue display on the waiting rooms' screens."),
        FRONT_DESK_GROUP,
    ),
    (
        "guide:daily",
        _("Daily figures"),
        _("The day's arrivals, bookings, no-shows, waiting times, cards and exams."),
        FRONT_DESK_GROUP,
    ),
    (
        "consult:queue",
        _("Enquiries"),
        _("Call-backs due, online booking requests, and the call screen."),
        CONSULTATION_GROUP,
    ),
    (
        "online:inbox",
        _("Online consultations"),
        _("Questions patients asked on the online hospital, with photos: answer by the deadline."),
        CONSULTATION_GROUP,
    ),
    (
        "voice:callbacks",
        _("Callback tasks"),
        _("Voicemail, abandoned and missed calls of the hotline to call back by their deadlines."),
        CONSULTATION_GROUP,
    ),
    (
        "consult:booking_list",
        _("Bookings"),
        _("The day's bookings by department, expert and status."),
        CONSULTATION_GROUP,
    ),
    (
        "voice:wallboard",
        _("Hotline wallboard"),
        _("Today's calls by queue and agent, the calls waiting now; it refreshes itself."),
        CONSULTATION_GROUP,
    ),
    (
        "consult:stats",
        _("Consultation analysis"),
        _("Enquiries, bookings, arrivals and conversion by consultant and channel."),
        CONSULTATION_GROUP,
    ),
    (
        "clientmgmt:archive_list",
        _("Archives"),
        _("Patients, members and exam clients by category: the maintenance round, calls, exports."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "followup:call_list",
        _("Return-visit calls"),
        _("The calls due today: care plans, health assessments, service recovery, VIP care."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "complaints:complaint_list",
        _("Complaints"),
        _("Complaints to acknowledge, investigate and close with a result; deadlines and figures."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "exams:alerts",
        _("Abnormal exam results"),
        _("Critical values to answer by a call within their deadline; abnormal results to follow."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "referrals:referral_list",
        _("Referrals"),
        _("Clients referred by the marketing department, partner clinics and doctors."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "events:event_list",
        _("Events"),
        _("Free clinics and skin-health school lectures: invitations, replies, the door."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "surveys:weekly",
        _("Weekly satisfaction"),
        _("The week's survey and call answers by dimension and department, with every comment."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "surveys:response_list",
        _("Survey answers"),
        _("Every answer from the survey page and from calls; those that need recovery."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "surveys:round_list",
        _("Market surveys"),
        _("Market surveys sent by SMS to a segment of clients, and what the answers say."),
        CLIENT_MANAGEMENT_GROUP,
    ),
    (
        "vip:roster",
        _("VIP roster"),
        _("VIPs by kind, tier and expiry; their escorts, costs and who opened their records."),
        VIP_GROUP,
    ),
    (
        "vip:candidate_list",
        _("VIP candidates"),
        _("Clients and enterprises to approve, and nominations waiting for a second person."),
        VIP_GROUP,
    ),
    (
        "vip:enterprise_list",
        _("Enterprises"),
        _("Enterprise accounts, their agreements and employees."),
        VIP_GROUP,
    ),
    (
        "reports:dashboard",
        _("Reports"),
        _("The centre's figures today and this month; the monthly satisfaction report."),
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


def sections_for(user) -> tuple[dict, ...]:
    """The sections `user` may open, in order (url_name, url, label, description, group). They
    depend on the roles alone: worked out once per set of roles (and URL prefix) per process,
    not per page. Read-only: the same tuple serves every user with those roles."""
    if not user.is_authenticated:
        return ()
    return _sections(user_roles(user), get_script_prefix(), get_urlconf())


@lru_cache(maxsize=256)
def _sections(roles: frozenset, _prefix: str, _urlconf) -> tuple[dict, ...]:
    sections = []
    for url_name, label, description, *group in SECTIONS:
        if not roles_may_open(roles, url_name):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        sections.append(
            {
                "url_name": url_name,
                "url": url,
                "label": label,
                "description": description,
                "group": group[0] if group else None,
            }
        )
    return tuple(sections)


def menu_for_user(user, current: str) -> tuple[dict, ...]:
    """menu_for the sections of `user` on the page named `current`, worked out once per set of
    roles and page per process (read-only)."""
    if not user.is_authenticated:
        return ()
    return _menu(user_roles(user), get_script_prefix(), get_urlconf(), current)


@lru_cache(maxsize=4096)
def _menu(roles: frozenset, prefix: str, urlconf, current: str) -> tuple[dict, ...]:
    return tuple(menu_for(_sections(roles, prefix, urlconf), current))


def menu_html(user, current: str) -> str:
    """The navigation bar's sections as HTML (includes/nav_menu.html), rendered once per set of
    roles, page and language per process: the same for everyone with those roles, and nothing
    in it depends on the request."""
    if not user.is_authenticated:
        return ""
    key = (user_roles(user), get_script_prefix(), get_urlconf(), current, get_language())
    return _menu_html(*key)


@lru_cache(maxsize=4096)
def _menu_html(roles, prefix, urlconf, current, _language) -> str:
    menu = _menu(roles, prefix, urlconf, current)
    return render_to_string("includes/nav_menu.html", {"nav_menu": menu})


def menu_for(sections, current: str) -> list[dict]:
    """The navigation bar: sections in order, those of one group folded into one drop-down
    (a group with a single visible section stays a plain link). A link is active on its own page
    and on the other pages of its app (a booking's page lights Bookings); a drop-down is active
    when one of its sections is."""
    namespace = current.rpartition(":")[0]

    def in_app(url_name):
        return bool(namespace) and url_name.rpartition(":")[0] == namespace

    menu = []
    for section in sections:
        item = dict(section, active=section["url_name"] == current)
        previous = menu[-1] if menu else None
        if section["group"] and previous and previous.get("group") == section["group"]:
            if "children" not in previous:
                first = dict(previous, active=previous["url_name"] == current)
                previous.update(children=[first], label=section["group"])
                previous["active"] = in_app(first["url_name"])
            previous["children"].append(item)
            previous["active"] = previous["active"] or in_app(section["url_name"])
        else:
            item["active"] = item["active"] or in_app(section["url_name"])
            menu.append(item)
    return menu
