from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import clients as demo
from demo.directory import seed_directory
from demo.events import seed_events
from demo.exams import seed_definitions, seed_enterprise_round, seed_exam_orders
from demo.followup import seed_followup_plans
from demo.front_desk import seed_display_screen, seed_front_desk
from demo.history import DAYS, seed_history, seed_reports
from demo.hospital import seed_hospital_profile
from demo.hotline import seed_calls, seed_hotline
from demo.portal import CHILD_NAME, DEMO_NAME, seed_portal_person
from demo.referrals import seed_referrals
from demo.sms_templates import seed_templates
from demo.surveys import seed_market_round, seed_surveys
from demo.two_factor import seed_two_factor
from demo.vips import LAPSED, seed_lapsed_vips, seed_vips
from zhongdu import roles
from zhongdu.roles import two_factor_required

# Demo usernames are a contract: the README, the browser tests and later issues use them.
DEMO_USERS = [
    ("admin", roles.ADMINISTRATOR, "系统管理员"),
    ("frontdesk", roles.FRONT_DESK, "导医台"),
    ("consultant", roles.CONSULTANT, "咨询员"),
    ("clientmgr", roles.CLIENT_MANAGER, "客户管理"),
    ("vipmgr", roles.VIP_MANAGER, "VIP 专员"),
    ("manager", roles.MANAGER, "客户总监"),
    ("doctor", roles.CLINICIAN, "医生"),
]


class Command(BaseCommand):
    help = (
        "Create (or reset) one demo user per role with the given password, the demo hospital's"
        " directory and a few hundred clients; --clients N adds N generated clients in bulk."
        " Idempotent (except --clients, which adds N more each time)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True, help="password for every demo user")
        parser.add_argument(
            "--force", action="store_true", help="run even when DJANGO_DEBUG is false"
        )
        parser.add_argument("--dry-run", action="store_true", help="say what would be done")
        parser.add_argument(
            "--clients",
            type=int,
            default=0,
            metavar="N",
            help="also generate N more clients in bulk (COPY on Postgres), printing the rate",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=DAYS,
            metavar="N",
            help=f"days of history before today (default {DAYS}, thirteen months; tests use a few)",
        )

    def handle(self, *args, password, force, dry_run, clients, days, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo users with DJANGO_DEBUG=false;"
                " pass --force if you mean it."
            )
        if len(password) < 10:
            raise CommandError("The demo password must be at least 10 characters long.")
        if clients < 0:
            raise CommandError("--clients must be 0 or more.")
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        if dry_run:
            for username, role, _name in DEMO_USERS:
                self.stdout.write(f"would create or reset {username} ({role})")
                if role in settings.TWO_FACTOR_REQUIRED_ROLES:
                    self.stdout.write(
                        f"would give {username} an authenticator secret where missing"
                    )
            self.stdout.write("would add the demo hospital's directory and SMS templates")
            self.stdout.write(f"would add the {demo.DEMO_CLIENTS} demo clients where missing")
            self.stdout.write("would add keywords, exam packages, today's calls and arrivals")
            self.stdout.write("would add a waiting-room display screen where missing")
            self.stdout.write("would add care-plan templates and a few plans and calls under way")
            self.stdout.write("would add the satisfaction and market surveys and their SMS")
            self.stdout.write("would add the patient portal's demo person where missing")
            self.stdout.write("would add a few referrals and two events (one past, one VIP-only)")
            self.stdout.write("would add the VIP policy, two enterprises, VIPs and candidates")
            self.stdout.write(
                "would add what exam items yield, exam orders with results (some abnormal, one"
                " critical) and an enterprise's exam rounds"
            )
            self.stdout.write(
                f"would add the history of the last {days} days where missing, their daily"
                " figures and the packs of the closed months"
            )
            if clients:
                self.stdout.write(f"would generate {clients:,} more clients")
            return
        with transaction.atomic():
            roles.sync_group_permissions()
            for username, role, first_name in DEMO_USERS:
                self._upsert(username, role, first_name, password)
        self.stdout.write(self.style.SUCCESS(f"{len(DEMO_USERS)} demo users ready."))
        self._two_factor()
        # Before the clients: their source channels come from the directory.
        sessions = seed_directory()
        self.stdout.write(f"Demo hospital directory ready ({sessions} new clinic sessions).")
        if seed_hospital_profile():
            self.stdout.write("Demo hospital profile added.")
        templates = seed_templates()
        self.stdout.write(f"Demo SMS templates ready ({templates} created).")
        frontdesk = get_user_model().objects.get(username="frontdesk")
        created = demo.seed_demo_clients(by=frontdesk)
        self.stdout.write(f"Demo clients ready ({created} created).")
        front_desk = seed_front_desk(by=frontdesk)
        self.stdout.write(
            "Front desk ready ({keywords} triage keywords, {packages} exam packages and"
            " {bookings} bookings and {enquiries} other enquiries today created).".format(
                **front_desk
            )
        )
        screen = seed_display_screen(by=get_user_model().objects.get(username="admin"))
        if screen is not None:
            self.stdout.write(
                f"Waiting-room display of {screen.department.name}:"
                f" {screen.get_absolute_url()} (no sign-in; revoke it at /guide/displays/)."
            )
        followup = seed_followup_plans(by=get_user_model().objects.get(username="clientmgr"))
        self.stdout.write(
            "Follow-up ready ({templates} care-plan templates, {plans} care plans and"
            " {calls} pool calls created).".format(**followup)
        )
        surveys = seed_surveys()
        self.stdout.write(
            "Surveys ready ({templates} survey templates and {sms} SMS templates created).".format(
                **surveys
            )
        )
        # Before the events: a VIP-only event invites the VIPs.
        vips = seed_vips(by=get_user_model().objects.get(username="vipmgr"))
        self.stdout.write(
            "VIP ready ({enterprises} enterprises created; {vips} VIPs, {candidates} candidates"
            " waiting).".format(**vips)
        )
        doctor = get_user_model().objects.get(username="doctor")
        definitions = seed_definitions()
        orders = seed_exam_orders(frontdesk=frontdesk, doctor=doctor)
        team = seed_enterprise_round(
            vipmgr=get_user_model().objects.get(username="vipmgr"),
            frontdesk=frontdesk,
            doctor=doctor,
        )
        self.stdout.write(
            f"After the exam ready ({definitions} findings and result definitions created;"
            f" {orders['orders']} exam orders, {orders['released']} with released results;"
            f" an enterprise round of {team['employees']} employees, {team['orders']} orders)."
        )
        person = seed_portal_person(frontdesk=frontdesk, doctor=doctor)
        self.stdout.write(
            f"Patient portal ready{' (demo person created)' if person['created'] else ''}: sign"
            f" in at /my/login/ as {DEMO_NAME} with {person['phone'][3:]} (an upcoming booking,"
            f" released exam results, her child {CHILD_NAME}); the code's SMS is printed in the"
            " console."
        )
        clientmgr = get_user_model().objects.get(username="clientmgr")
        referrals = seed_referrals(by=clientmgr)
        self.stdout.write(f"Referrals ready ({referrals} created).")
        events = seed_events(by=clientmgr)
        self.stdout.write(
            "Events ready ({events} created, {invited} invited and {came} came to the past"
            " one).".format(**events)
        )
        agents = seed_hotline()
        calls = seed_calls()
        self.stdout.write(
            f"Hotline ready ({agents} agents created; queues hotline and vip; {calls} calls"
            " of the morning played, their missed callers waiting as callback tasks)."
        )
        market = seed_market_round(by=clientmgr)
        self.stdout.write(
            "Market survey ready ({rounds} round created, {invited} invited, {answered}"
            " answered).".format(**market)
        )
        self._history(days)
        if clients:
            demo.seed_clients(clients, by=frontdesk, stdout=self.stdout)

    def _history(self, days):
        users = {
            user.username: user
            for user in get_user_model().objects.filter(
                username__in=["frontdesk", "consultant", "clientmgr"]
            )
        }
        history = seed_history(users=users, days=days)
        if history["days"]:
            self.stdout.write(
                "History ready ({days} days: {clients} new clients, {enquiries} enquiries,"
                " {bookings} bookings, {visits} visits, {charges} charges, {complaints}"
                " complaints, {plans} care plans, {events} events).".format(**history)
            )
        else:
            self.stdout.write(f"History ready (the last {days} days were there already).")
        if days >= LAPSED[0][0]:  # the story of a lapse needs the year it spans
            lapsed = seed_lapsed_vips(by=users["frontdesk"])
            self.stdout.write(f"VIP lapses ready ({lapsed} lapsed at the nightly run).")
        reports = seed_reports(days=history["touched"])
        self.stdout.write(
            "Reports ready ({rollups} daily figures, {months} months, {packs} packs"
            " created).".format(**reports)
        )

    def _two_factor(self):
        """The demo users who must sign in with a code get a device; print how to sign in."""
        users = get_user_model().objects.filter(username__in=[name for name, *_ in DEMO_USERS])
        required = [user for user in users.order_by("username") if two_factor_required(user)]
        if not required:
            return
        self.stdout.write(
            "Two-factor sign-in: these users also need a code. Type the secret into an"
            " authenticator app (time-based, 6 digits), or use one backup code (each works once):"
        )
        for user in required:
            device = seed_two_factor(user)
            note = " (new secret)" if device.created else ""
            self.stdout.write(
                f"  {user.username}: secret {device.secret}{note};"
                f" backup codes {' '.join(device.backup_codes)}"
            )

    def _upsert(self, username, role, first_name, password):
        user, created = get_user_model().objects.get_or_create(username=username)
        user.first_name = first_name
        user.is_active = True
        # Administrators configure the hospital in the Django admin, which needs is_staff.
        user.is_staff = role == roles.ADMINISTRATOR
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        self.stdout.write(f"{'created' if created else 'reset'} {username} ({role})")
