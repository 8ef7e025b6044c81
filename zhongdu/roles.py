"""Roles and the one table that says which role may open which page.

A role is a Django group with one of the names below (created by a data migration). Every URL of
the project is declared in PAGE_ACCESS by its URL name; RoleAccessMiddleware enforces the table
and tests/zhongdu/test_access.py walks every URL pattern against it, so a page that is not
declared here fails the suite instead of being silently open.
"""

import functools

from django.conf import settings
from django.utils.translation import gettext_lazy as _

FRONT_DESK = "front_desk"
CONSULTANT = "consultant"
CLIENT_MANAGER = "client_manager"
VIP_MANAGER = "vip_manager"
MANAGER = "manager"
ADMINISTRATOR = "administrator"
# Doctors and nurses (医护): they call the patients the front desk sent them, at the calling
# station; later clinical features reuse the role.
CLINICIAN = "clinician"

ROLE_LABELS = {
    FRONT_DESK: _("Front desk"),
    CONSULTANT: _("Consultant"),
    CLIENT_MANAGER: _("Client manager"),
    VIP_MANAGER: _("VIP manager"),
    MANAGER: _("Manager"),
    ADMINISTRATOR: _("Administrator"),
    CLINICIAN: _("Clinician"),
}
ALL_ROLES = frozenset(ROLE_LABELS)

# Roles that register and edit clients and may reveal their numbers when they need to call.
CLIENT_EDITORS = frozenset({FRONT_DESK, CONSULTANT, CLIENT_MANAGER, VIP_MANAGER, ADMINISTRATOR})

# Roles that watch the SMS outbox: its failures are theirs to act on.
MESSAGE_WATCHERS = frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR})

# The front desk's arrivals (check-in, walk-ins, triage, visit states, charges): the front desk,
# and the VIP managers who escort VIPs; client managers and managers look on.
GUIDE_DESK = frozenset({FRONT_DESK, VIP_MANAGER, ADMINISTRATOR})
GUIDE_READERS = GUIDE_DESK | {CLIENT_MANAGER, MANAGER}
# Membership cards and exam orders: issued by the front desk, maintained by client management.
CARD_DESK = frozenset({FRONT_DESK, CLIENT_MANAGER, ADMINISTRATOR})
CARD_READERS = CARD_DESK | {VIP_MANAGER, MANAGER}

# Follow-up: client managers work the return-visit calls (seed: 客户管理部 电话回访); managers
# and administrators oversee; the VIP managers look on. Care plans are written at discharge by the
# front desk or later by client management.
FOLLOWUP_DESK = frozenset({CLIENT_MANAGER, ADMINISTRATOR})
FOLLOWUP_READERS = FOLLOWUP_DESK | {MANAGER, VIP_MANAGER}
PLAN_WRITERS = frozenset({CLIENT_MANAGER, FRONT_DESK, ADMINISTRATOR})

# Complaints: client management handles them (seed: 客户管理部 负责病人投诉的接待与处理), managers
# oversee and escalations reach them; whoever recorded one may look at it.
COMPLAINT_HANDLERS = frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR})
COMPLAINT_READERS = COMPLAINT_HANDLERS | CLIENT_EDITORS

# Archives: client management keeps them (seed: 客户管理部 健康档案分类管理并定期维护); managers
# look and export; referrals are listed for the same people (every desk records and moves them).
ARCHIVE_DESK = frozenset({CLIENT_MANAGER, ADMINISTRATOR})
ARCHIVE_READERS = ARCHIVE_DESK | {MANAGER}

# Events (seed: 活动邀请, 皮肤健康学校): client management and the VIP managers run them, managers
# look on; the front desk takes attendance at the door.
EVENT_DESK = frozenset({CLIENT_MANAGER, VIP_MANAGER, ADMINISTRATOR})
EVENT_READERS = EVENT_DESK | {MANAGER}
EVENT_DOOR = EVENT_DESK | {FRONT_DESK}

# VIP: the VIP managers (and administrators) keep the roster and enterprises; managers read
# everything and decide with them.
VIP_DESK = frozenset({VIP_MANAGER, ADMINISTRATOR})
VIP_DECIDERS = VIP_DESK | {MANAGER}
VIP_READERS = VIP_DECIDERS

# Queue numbers and calling: doctors and nurses call their department's patients at the calling
# station; administrators look on and make the waiting-room display screens' links.
CALLING_DESK = frozenset({CLINICIAN, ADMINISTRATOR})
DISPLAY_KEEPERS = frozenset({ADMINISTRATOR})

# The hotline's calls: whoever takes calls and serves clients reads a call's record and, after
# giving a reason, listens to its recording (a VIP's only as the discretion rule allows, checked
# by voice.selectors); managers look on. Clinicians take no calls.
HOTLINE_READERS = CLIENT_EDITORS | {MANAGER}
# The hotline's callback tasks: those who answer the hotline call its callers back (the front
# desk does not: it receives arrivals); managers look on.
CALLBACK_TAKERS = frozenset({CONSULTANT, CLIENT_MANAGER, VIP_MANAGER, ADMINISTRATOR})
CALLBACK_READERS = CALLBACK_TAKERS | {MANAGER}
# Calling out from a worklist (the call button): whoever works a list of people to call (the
# desks, client management, the VIP managers; managers work complaints). The task's own access
# helper decides each call (voice.outbound).
DIALLERS = CLIENT_EDITORS | {MANAGER}
# The online consultation's inbox (/consult/online/, portal.online_views): the consultation desk
# answers the patients' questions; the VIP managers answer their VIPs' (a VIP's thread opens only
# for those the discretion rule lets see the whole record). Client managers work return visits,
# not the desk's inbox; managers read the desk's figures elsewhere.
ONLINE_CONSULT_DESK = frozenset({CONSULTANT, VIP_MANAGER, ADMINISTRATOR})

# After the exam (exams): results are health information. The examining staff (clinicians)
# enter and import them and a clinician releases them; the clinicians and those who serve the
# client (client managers, the VIP managers, each as the discretion rule allows) read them; the
# front desk sees no more than "results ready". Abnormal and critical values are followed by
# client management and the VIP managers, with the managers on duty and the clinicians, who are
# escalated to. Assessments and plans are client management's.
RESULT_ENTRY = frozenset({CLINICIAN, ADMINISTRATOR})
RESULT_RELEASERS = frozenset({CLINICIAN})
RESULT_READERS = frozenset({CLINICIAN, CLIENT_MANAGER, VIP_MANAGER, ADMINISTRATOR})
ALERT_WORKERS = frozenset({CLIENT_MANAGER, VIP_MANAGER, CLINICIAN, MANAGER, ADMINISTRATOR})
ASSESSMENT_WRITERS = frozenset({CLIENT_MANAGER, VIP_MANAGER, ADMINISTRATOR})
# Enterprise exam rounds and their team reports: the VIP managers keep them and send the report
# to the enterprise's contact; managers read them.
TEAM_REPORT_DESK = VIP_DESK
TEAM_REPORT_READERS = VIP_READERS

# Reports are the managers' and the administrators'.
REPORT_READERS = frozenset({MANAGER, ADMINISTRATOR})
# The hotline's wallboard: the consultants who answer it (the call centre) and their managers.
WALLBOARD_READERS = frozenset({CONSULTANT, MANAGER, ADMINISTRATOR})

# Access rules that are not a set of roles.
PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in user, whatever their roles
# A patient signed in to the portal (request.patient, portal.middleware): never a staff user.
PATIENT = "patient"

PAGE_ACCESS: dict[str, str | frozenset[str]] = {
    # Accounts and plumbing.
    "login": PUBLIC,
    "logout": PUBLIC,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    "set_language": PUBLIC,
    # Two-factor sign-in (django-two-factor-auth's pages; the sign-in itself is "login"): anyone
    # signed in enrols an authenticator app, prints backup codes, or turns it off where their
    # roles allow (zhongdu.middleware.TwoFactorMiddleware sends the roles that must use it here).
    "two_factor:profile": SIGNED_IN,
    "two_factor:setup": SIGNED_IN,
    "two_factor:qr": SIGNED_IN,
    "two_factor:setup_complete": SIGNED_IN,
    "two_factor:backup_tokens": SIGNED_IN,
    "two_factor:disable": SIGNED_IN,
    "healthz": PUBLIC,
    "book": PUBLIC,
    # The patient portal (/my/): its sign-in pages are public, every other page asks for a
    # patient's session (PATIENT), which no staff user has.
    "portal:*": PATIENT,
    "portal:login": PUBLIC,
    "portal:login_code": PUBLIC,
    "portal:logout": PUBLIC,
    # My data's staff side (portal.data_request_urls): client management decides people's
    # requests to correct or delete their information; the desks that register clients record
    # who may see a dependant's record on the portal.
    "datarequests:request_list": ARCHIVE_DESK,
    "datarequests:request_detail": ARCHIVE_DESK,
    "datarequests:request_decide": ARCHIVE_DESK,
    "datarequests:dependant_add": frozenset({FRONT_DESK, CLIENT_MANAGER, ADMINISTRATOR}),
    "datarequests:dependant_withdraw": frozenset({FRONT_DESK, CLIENT_MANAGER, ADMINISTRATOR}),
    "home": SIGNED_IN,
    "notifications": SIGNED_IN,
    "notifications_read": SIGNED_IN,
    # The hospital directory: every member of staff answers callers' questions.
    "knowledge_desk": ALL_ROLES,
    # Clients (clientmgmt). Object-level rules live in clientmgmt.selectors.client_get_for_user.
    "clientmgmt:client_list": ALL_ROLES,
    "clientmgmt:client_detail": ALL_ROLES,
    "clientmgmt:client_create": CLIENT_EDITORS,
    "clientmgmt:client_edit": CLIENT_EDITORS,
    "clientmgmt:client_reveal": CLIENT_EDITORS,
    "clientmgmt:client_consent": CLIENT_EDITORS,
    "clientmgmt:client_archive": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "clientmgmt:client_restore": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "clientmgmt:client_export": frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    "clientmgmt:import_upload": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "clientmgmt:import_detail": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "clientmgmt:import_start": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "clientmgmt:import_progress": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "clientmgmt:merge_select": frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    "clientmgmt:merge_detail": frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    "clientmgmt:merge_undo": frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    # Messaging. Webhooks authenticate the provider by its signature, not by a session.
    "messaging:twilio_status": PUBLIC,
    "messaging:twilio_inbound": PUBLIC,
    # The PBX's CTI events: signed with CTI_WEBHOOK_SECRET, checked by the view (docs/cti.md).
    "voice:cti_events": PUBLIC,
    "voice:aliyun_receipt": PUBLIC,
    # An agent's own presence (the view answers 404 to a user who is no agent).
    "voice:presence": SIGNED_IN,
    # The agent's call pop (404 for a user who is no agent).
    "voice:pop": SIGNED_IN,
    # The hotline's callback tasks: those who answer the hotline work them (the front desk
    # does not), the manager looks on.
    "voice:callbacks": CALLBACK_READERS,
    # A call's page, listening to its recording after a reason (audited), and the audio itself
    # (a short-lived signed grant beside the role; object rules in voice.selectors).
    "voice:call_detail": HOTLINE_READERS,
    "voice:recording_listen": HOTLINE_READERS,
    "voice:recording_audio": HOTLINE_READERS,
    # Today's calls per queue and agent, and the calls waiting now (it refreshes itself).
    "voice:wallboard": WALLBOARD_READERS,
    # The call button of every worklist (POST: the agent's line rings, then the client), and
    # the state of a call the user placed (polled; 404 for anyone else's call).
    "voice:dial": DIALLERS,
    "voice:dial_status": DIALLERS,
    # Alibaba Cloud's pushes: a secret in the address instead (and optionally an allow-list).
    "messaging:aliyun_report": PUBLIC,
    "messaging:aliyun_up": PUBLIC,
    "messaging:outbox_list": MESSAGE_WATCHERS,
    "messaging:outbox_attention": MESSAGE_WATCHERS,
    "messaging:outbox_figures": MESSAGE_WATCHERS,
    "messaging:message_detail": MESSAGE_WATCHERS,
    "messaging:message_retry": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "messaging:message_mark_sent": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "messaging:message_release": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    "messaging:campaign_list": MESSAGE_WATCHERS,
    "messaging:campaign_detail": MESSAGE_WATCHERS,
    "messaging:campaign_create": frozenset({CLIENT_MANAGER, ADMINISTRATOR}),
    # Consultation desk: bookings. Object-level rules live in consult.selectors.
    "consult:booking_list": CLIENT_EDITORS | {MANAGER},
    "consult:booking_detail": CLIENT_EDITORS | {MANAGER},
    "consult:booking_slip": CLIENT_EDITORS | {MANAGER},
    "consult:booking_new": CLIENT_EDITORS,
    "consult:booking_reschedule": CLIENT_EDITORS,
    "consult:booking_cancel": CLIENT_EDITORS,
    # Consultation desk: enquiries. The manager looks at the queue; the call screen is for those
    # who take calls. The booking-request page is the public's.
    "consult:call": CLIENT_EDITORS,
    "consult:queue": CLIENT_EDITORS | {MANAGER},
    "consult:index": CLIENT_EDITORS | {MANAGER},
    "consult:public_book": PUBLIC,
    "consult:public_book_thanks": PUBLIC,
    # Consultation desk: recalls of no-shows. The manager may look; those who call record.
    "consult:recall_detail": CLIENT_EDITORS | {MANAGER},
    "consult:recall_attempt": CLIENT_EDITORS,
    "consult:recall_close": CLIENT_EDITORS,
    # Consultation analysis: the desk compares itself; front desk and VIP managers take no calls.
    "consult:stats": frozenset({CONSULTANT, CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    "consult:stats_export": frozenset({CONSULTANT, CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    # The online consultation's staff side (portal.online_urls).
    "online:*": ONLINE_CONSULT_DESK,
    # Front desk (guide). Object-level rules live in guide.selectors (DESK_WRITERS,
    # CARD_WRITERS and the readers). Arrivals are the front desk's, with the VIP managers who
    # escort VIPs; client managers and managers look on. Cards and exam orders are issued by the
    # front desk and maintained by client management (seed: 导医组 / 客户管理部).
    "guide:index": GUIDE_READERS,
    "guide:today": GUIDE_READERS,
    "guide:walk_in": GUIDE_DESK,
    "guide:check_in": GUIDE_DESK,
    "guide:visit_detail": GUIDE_READERS,
    "guide:visit_triage": GUIDE_DESK,
    "guide:visit_status": GUIDE_DESK,
    "guide:charge_add": GUIDE_DESK,
    "guide:charge_void": GUIDE_DESK,
    "guide:triage_doctors": GUIDE_DESK,
    "guide:triage_suggest": GUIDE_DESK,
    "guide:charge_import_upload": frozenset({FRONT_DESK, ADMINISTRATOR}),
    "guide:charge_import_detail": frozenset({FRONT_DESK, ADMINISTRATOR}),
    "guide:charge_import_confirm": frozenset({FRONT_DESK, ADMINISTRATOR}),
    "guide:card_list": CARD_READERS,
    "guide:card_detail": CARD_READERS,
    "guide:card_new": CARD_DESK,
    "guide:card_renew": CARD_DESK,
    "guide:card_status": CARD_DESK,
    "guide:exam_list": CARD_READERS,
    "guide:exam_detail": CARD_READERS,
    "guide:exam_new": CARD_DESK,
    "guide:exam_item_done": CARD_DESK,
    "guide:exam_complete": CARD_DESK,
    "guide:exam_cancel": CARD_DESK,
    # After the exam: the assessment page (read by RESULT_READERS; saving and finalising are
    # ASSESSMENT_WRITERS', checked by the view) and the client's report.
    "exams:assessment": RESULT_READERS,
    "exams:report_pdf": RESULT_READERS,
    # After the exam: an order's results (exams.result_views). Each page also applies the
    # discretion rule to the order's client (exams.selectors.order_get_for_user).
    "exams:results_worklist": RESULT_READERS,
    "exams:results": RESULT_READERS,
    "exams:result_file": RESULT_READERS,
    "exams:result_save": RESULT_ENTRY,
    "exams:results_import": RESULT_ENTRY,
    "exams:results_release": RESULT_RELEASERS,
    # Calling (叫号): the clinician's station calls, recalls, skips and finishes queue numbers;
    # the waiting-room display is public, found by its screen's unguessable token only (an
    # administrator makes one per screen and may revoke it).
    "guide:calling": CALLING_DESK,
    "guide:ticket_call": CALLING_DESK,
    "guide:ticket_recall": CALLING_DESK,
    "guide:ticket_skip": CALLING_DESK,
    "guide:ticket_done": CALLING_DESK,
    "guide:display": PUBLIC,
    "guide:display_list": DISPLAY_KEEPERS,
    "guide:display_revoke": DISPLAY_KEEPERS,
    # The day's figures: the front desk reports them (seed: 各种报表的统计), managers read them.
    "guide:daily": frozenset({FRONT_DESK, CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    "guide:daily_export": frozenset({FRONT_DESK, CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    # Follow-up: the return-visit call workbench, care plans, surveys. Object-level rules (whose
    # call) live in followup.selectors.call_get_for_user.
    "followup:index": FOLLOWUP_READERS,
    "followup:call_list": FOLLOWUP_READERS,
    "followup:call_detail": FOLLOWUP_READERS,
    "followup:call_new": FOLLOWUP_DESK,
    "followup:call_record": FOLLOWUP_DESK,
    "followup:call_answer": FOLLOWUP_DESK,
    "followup:call_claim": FOLLOWUP_DESK,
    "followup:call_reassign": FOLLOWUP_DESK | {MANAGER},
    "followup:plan_new": PLAN_WRITERS,
    "followup:plan_detail": FOLLOWUP_READERS | PLAN_WRITERS,
    "followup:plan_edit": PLAN_WRITERS,
    "followup:plan_cancel": PLAN_WRITERS,
    # The visit slip with its survey QR code is printed by the front desk at the end of a visit.
    "followup:visit_slip": GUIDE_DESK | {CLIENT_MANAGER},
    # The weekly survey summary is for the marketing department, through client management.
    "surveys:weekly": FOLLOWUP_READERS,
    "surveys:weekly_export": FOLLOWUP_READERS,
    "surveys:response_list": FOLLOWUP_READERS,
    # Market survey rounds (市场调查): client management sends them, follow-up's readers read.
    "surveys:round_list": FOLLOWUP_READERS,
    "surveys:round_new": FOLLOWUP_DESK,
    "surveys:round_detail": FOLLOWUP_READERS,
    "surveys:round_export": FOLLOWUP_READERS,
    # A maintenance call to each client ticked in the archives (followup.bulk_views).
    "followup:call_bulk": FOLLOWUP_DESK,
    # Abnormal and critical exam results followed to the end (exams.alert_views): worked by
    # ALERT_WORKERS; the values behind one only for RESULT_READERS (exams.alerts).
    "exams:alerts": ALERT_WORKERS,
    "exams:alert_detail": ALERT_WORKERS,
    "exams:alert_record": ALERT_WORKERS,
    # Events: run by client management and the VIP managers, read by managers; the front desk
    # finds the day's event in the list and takes attendance at the door.
    "events:event_list": EVENT_DOOR | {MANAGER},
    "events:event_detail": EVENT_READERS,
    "events:event_new": EVENT_DESK,
    "events:event_edit": EVENT_DESK,
    "events:event_invite": EVENT_DESK,
    "events:event_rsvp": EVENT_DESK,
    "events:event_door": EVENT_DOOR,
    "events:event_attend": EVENT_DOOR,
    "events:event_register": EVENT_DOOR,
    # The survey behind the QR code: public, found by its unguessable token only.
    "survey": PUBLIC,
    # Complaints: anyone who serves clients records one; client management handles them;
    # managers oversee (complaints.services; object rules in complaints.selectors).
    "complaints:complaint_list": COMPLAINT_READERS,
    "complaints:complaint_detail": COMPLAINT_READERS,
    "complaints:complaint_new": CLIENT_EDITORS,
    "complaints:complaint_status": COMPLAINT_HANDLERS,
    "complaints:complaint_assign": COMPLAINT_HANDLERS,
    "complaints:complaint_figures": frozenset({CLIENT_MANAGER, MANAGER, ADMINISTRATOR}),
    # Archives (clientmgmt.archives): the lists by category and their bulk actions. Exports
    # (masked, capped, audited with a reason) are reads, as the client search's export.
    "clientmgmt:archive_list": ARCHIVE_READERS,
    "clientmgmt:archive_export": ARCHIVE_READERS,
    "clientmgmt:archive_review": ARCHIVE_DESK,
    # A client's health archive: whoever reads clients (a VIP's only in summary, by the
    # discretion rule in the view).
    "clientmgmt:health_archive": ALL_ROLES,
    # Referrals from the marketing department and partners: any desk records one and moves it
    # along (the consultation desk calls, the front desk sees arrivals); client management and
    # the managers keep the list.
    "referrals:referral_list": ARCHIVE_READERS,
    "referrals:referral_new": CLIENT_EDITORS,
    "referrals:referral_status": CLIENT_EDITORS,
    # VIP (seed: 医疗VIP客户管理制度). The VIP managers run it; managers oversee and decide;
    # client managers may nominate (a second person approves). Object rules (discretion) live in
    # vip.selectors.
    "vip:roster": VIP_READERS,
    "vip:candidate_list": VIP_READERS,
    "vip:candidate_decide": VIP_DECIDERS,
    "vip:nominate": VIP_DESK | {CLIENT_MANAGER, MANAGER},
    "vip:policy_history": VIP_READERS,
    "vip:vip_detail": VIP_READERS,
    "vip:vip_costs": VIP_READERS,
    "vip:vip_costs_export": VIP_READERS,
    "vip:vip_access": VIP_READERS,
    "vip:vip_escort": VIP_DESK,
    "vip:vip_revoke": VIP_DECIDERS,
    "vip:enterprise_list": VIP_READERS,
    "vip:enterprise_detail": VIP_READERS,
    "vip:enterprise_new": VIP_DESK,
    "vip:enterprise_edit": VIP_DESK,
    "vip:enterprise_member_add": VIP_DESK,
    "vip:enterprise_member_remove": VIP_DESK,
    "vip:enterprise_import": VIP_DESK,
    # An enterprise's exam rounds and their team report (exams.team_views).
    "teams:report": TEAM_REPORT_READERS,
    "teams:report_pdf": TEAM_REPORT_READERS,
    "teams:round_new": TEAM_REPORT_DESK,
    "teams:round_edit": TEAM_REPORT_DESK,
    "teams:round_sent": TEAM_REPORT_DESK,
    # Reports: the managers' (客户总监 and leadership) dashboard and monthly satisfaction report;
    # the views also require the permission reports.view_reports.
    "reports:dashboard": REPORT_READERS,
    "reports:figure_records": REPORT_READERS,
    "reports:satisfaction": REPORT_READERS,
    "reports:satisfaction_export": REPORT_READERS,
    "reports:pack_list": REPORT_READERS,
    "reports:pack_detail": REPORT_READERS,
    "reports:pack_export": REPORT_READERS,
    "reports:pack_pdf": REPORT_READERS,
    # This month's pack before it is made, on screen and as a PDF.
    "reports:pack_preview": REPORT_READERS,
    "reports:pack_preview_pdf": REPORT_READERS,
    # A closed month's missing pack, made by a manager (or an administrator).
    "reports:pack_make": REPORT_READERS,
    # Administration.
    "audit_event_list": frozenset({ADMINISTRATOR, MANAGER}),
    # The Django admin is the administrators' tool for configuring the hospital; the admin then
    # applies model permissions of its own.
    "admin:*": frozenset({ADMINISTRATOR}),
}

# Model permissions each role's group holds, as "app_label.codename" or "app_label.*" (every
# permission of the app). Kept in sync on every migrate (zhongdu.apps), so permissions of models
# added by later migrations reach the groups without another data migration.
_CLIENT_DESK = (
    "clientmgmt.view_client",
    "clientmgmt.add_client",
    "clientmgmt.change_client",
    "clientmgmt.reveal_client_contact",
)
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    FRONT_DESK: _CLIENT_DESK,
    CONSULTANT: _CLIENT_DESK,
    CLIENT_MANAGER: (
        *_CLIENT_DESK,
        "clientmgmt.export_client",
        "clientmgmt.merge_client",
        "clientmgmt.archive_client",
    ),
    VIP_MANAGER: _CLIENT_DESK,
    # Clinicians read the records of the patients they see; they register nobody.
    CLINICIAN: ("clientmgmt.view_client",),
    MANAGER: (
        "reports.view_reports",
        "zhongdu.view_auditevent",
        "clientmgmt.view_client",
        "clientmgmt.export_client",
        "clientmgmt.merge_client",
    ),
    ADMINISTRATOR: (
        "auth.*",
        "axes.*",
        # A lost phone: the administrator removes its device and the user enrols again (the
        # secrets stay hidden in the admin: OTP_ADMIN_HIDE_SENSITIVE_DATA).
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
        "otp_static.view_staticdevice",
        "otp_static.delete_staticdevice",
        "django_celery_beat.*",
        "zhongdu.*",
        "clientmgmt.*",
        "complaints.*",
        "referrals.*",
        "messaging.*",
        "consult.*",
        "guide.*",
        "followup.*",
        "surveys.*",
        "events.*",
        "vip.*",
        "reports.*",
        "voice.*",
        "exams.*",
    ),
}
# Permissions nobody is granted through a role, whatever the patterns above say.
NEVER_GRANTED = frozenset(
    {"zhongdu.add_auditevent", "zhongdu.change_auditevent", "zhongdu.delete_auditevent"}
)


def access_rule(view_name: str) -> str | frozenset[str] | None:
    """The rule for a resolved view name, or None when the page is not declared."""
    if view_name in PAGE_ACCESS:
        return PAGE_ACCESS[view_name]
    namespace, sep, _name = view_name.rpartition(":")
    if sep:
        return PAGE_ACCESS.get(f"{namespace}:*")
    return None


def user_roles(user) -> frozenset[str]:
    """The roles of a user, read once per request and cached on the user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return ALL_ROLES
    cached = getattr(user, "_zhongdu_roles", None)
    if cached is None:
        cached = user._zhongdu_roles = user_memberships(user)[0] & ALL_ROLES
    return cached


def user_memberships(user) -> tuple[frozenset[str], frozenset[str]]:
    """(the names of the user's groups, the user's own permissions as "app_label.codename"),
    read together in one query once per request and cached on the user object: the roles every
    page checks, and what zhongdu.backends adds to the groups' permissions (usually nothing)."""
    cached = getattr(user, "_zhongdu_memberships", None)
    if cached is None:
        from django.db import connection

        names, permissions = set(), set()
        with connection.cursor() as cursor:
            cursor.execute(_memberships_sql(), [user.pk, user.pk])
            for kind, label in cursor.fetchall():
                (names if kind == "g" else permissions).add(label)
        cached = user._zhongdu_memberships = (frozenset(names), frozenset(permissions))
    return cached


@functools.cache
def _memberships_sql() -> str:
    """Written once: the ORM spent longer building this statement than the database running it
    (on every page)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    q = connection.ops.quote_name
    user_model = get_user_model()
    user_groups = user_model.groups.through._meta
    user_permissions = user_model.user_permissions.through._meta
    user_column = user_model._meta.model_name + "_id"
    # Identifiers from the models' metadata, quoted; the user's id goes in as a parameter.
    return (
        f"SELECT 'g', g.{q('name')} FROM {q(Group._meta.db_table)} g"  # noqa: S608
        f" JOIN {q(user_groups.db_table)} ug ON ug.{q('group_id')} = g.{q('id')}"
        f" WHERE ug.{q(user_column)} = %s"
        f" UNION SELECT 'p', ct.{q('app_label')} || '.' || p.{q('codename')}"
        f" FROM {q(Permission._meta.db_table)} p"
        f" JOIN {q(user_permissions.db_table)} up ON up.{q('permission_id')} = p.{q('id')}"
        f" JOIN {q(ContentType._meta.db_table)} ct ON ct.{q('id')} = p.{q('content_type_id')}"
        f" WHERE up.{q(user_column)} = %s"
    )


def two_factor_required(user) -> bool:
    """Whether the user must sign in with a second factor: they hold one of the roles named by
    the TWO_FACTOR_REQUIRED_ROLES setting (the environment variable of the same name)."""
    return bool(user_roles(user) & frozenset(settings.TWO_FACTOR_REQUIRED_ROLES))


def user_may_open(user, view_name: str) -> bool:
    if not user.is_authenticated:
        return access_rule(view_name) == PUBLIC
    return roles_may_open(user_roles(user), view_name)


def roles_may_open(roles: frozenset[str], view_name: str) -> bool:
    """Whether a signed-in user holding `roles` may open the page (user_may_open, for what
    depends on the roles alone, such as the navigation)."""
    rule = access_rule(view_name)
    if rule is None or rule == PATIENT:
        return False  # a staff user never opens the patient's pages
    if rule in (PUBLIC, SIGNED_IN):
        return True
    return bool(roles & rule)


def sync_group_permissions(*, group_model=None, permission_model=None) -> None:
    """Create the role groups and give each exactly the permissions ROLE_PERMISSIONS lists.

    Idempotent. Takes historical models when called from a migration.
    """
    from django.contrib.auth.models import Group, Permission

    group_model = group_model or Group
    permission_model = permission_model or Permission
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in permission_model.objects.select_related("content_type")
    }
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        wanted = set()
        for pattern in patterns:
            if pattern.endswith(".*"):
                prefix = pattern[:-1]
                wanted |= {key for key in all_perms if key.startswith(prefix)}
            elif pattern in all_perms:
                wanted.add(pattern)
        wanted -= NEVER_GRANTED
        group.permissions.set([all_perms[key] for key in sorted(wanted)])
    from .backends import forget_group_permissions

    forget_group_permissions()
