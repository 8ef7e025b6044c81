from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


class Command(BaseCommand):
    help = "Install the default periodic jobs into beat's schedule tables. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would be created")

    @transaction.atomic
    def handle(self, *args, dry_run, **options):
        for name, task, seconds in settings.ZHONGDU_DEFAULT_SCHEDULES:
            if PeriodicTask.objects.filter(name=name).exists():
                # Keep whatever an administrator changed in the admin.
                self.stdout.write(f"kept {name}")
                continue
            if dry_run:
                self.stdout.write(f"would create {name}: {task} every {seconds}s")
                continue
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=seconds, period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(name=name, task=task, interval=interval)
            self.stdout.write(f"created {name}: {task} every {seconds}s")
