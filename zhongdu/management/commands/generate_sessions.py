from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhongdu.directory import services


class Command(BaseCommand):
    help = (
        "Create the dated clinic sessions of the active weekly clinics for the coming weeks, "
        "from today in the hospital's time zone. Idempotent: existing sessions are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=4, help="how many weeks ahead (1-52)")
        parser.add_argument("--dry-run", action="store_true", help="say how many would be created")

    def handle(self, *args, weeks, dry_run, **options):
        if not 1 <= weeks <= services.MAX_WEEKS:
            raise CommandError(f"--weeks must be between 1 and {services.MAX_WEEKS}.")
        start = timezone.localdate()
        count = services.clinic_sessions_generate(start=start, weeks=weeks, dry_run=dry_run)
        verb = "would create" if dry_run else "created"
        self.stdout.write(f"{verb} {count} sessions from {start:%Y-%m-%d} for {weeks} weeks")
