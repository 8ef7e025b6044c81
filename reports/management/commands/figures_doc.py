from django.core.management.base import BaseCommand

from reports.figures import definitions_markdown


class Command(BaseCommand):
    help = "Print docs/figures.md: the dashboard's figures and rates with their definitions."

    def handle(self, *args, **options):
        self.stdout.write(definitions_markdown(), ending="")
