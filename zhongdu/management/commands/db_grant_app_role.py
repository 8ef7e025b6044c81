from django.core.management.base import BaseCommand, CommandError

from zhongdu import dbroles


class Command(BaseCommand):
    help = (
        "Give the application's database role exactly its privileges: read and write every "
        "table, only insert into and read the append-only ones (the audit trail). Run it as the "
        "owner of the tables after migrate (docker-compose.yml does). Idempotent. Postgres only."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role web, worker and beat connect as")
        parser.add_argument("--dry-run", action="store_true", help="print the statements only")

    def handle(self, *args, role, dry_run, **options):
        try:
            if dry_run:
                statements = dbroles.app_role_grant_statements(role=role)
            else:
                statements = dbroles.app_role_grant(role=role)
        except dbroles.AppRoleError as error:
            raise CommandError(str(error)) from error
        for statement in statements:
            self.stdout.write(f"{statement};")
        if not dry_run:
            self.stdout.write(f"granted {role} the application's privileges")
