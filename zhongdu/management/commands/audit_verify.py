from datetime import UTC

from django.core.management.base import BaseCommand, CommandError

from zhongdu import auditseal


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _utc(moment) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's sealed chain (zhongdu/auditseal.py). Exits 0 when every "
        "sealed block and row still matches, 1 naming the first block and row that do not. "
        "Reads only, in one snapshot; streams the table."
    )

    def handle(self, *args, **options):
        verdict = auditseal.verify()
        if not verdict.ok:
            block = verdict.block
            where = (
                f"block {block.pk} (audit ids {block.first_audit_id}-{block.last_audit_id}, "
                f"sealed {_utc(block.sealed_at)})"
                if block is not None
                else "the chain"
            )
            # CommandError: the message on stderr and exit status 1 (BaseCommand.run_from_argv).
            raise CommandError(f"Audit trail NOT intact: {where}: {verdict.problem}.", returncode=1)
        if verdict.blocks:
            head = f"up to audit id {verdict.last_audit_id} (sealed {_utc(verdict.last_sealed_at)})"
        else:
            head = "nothing sealed yet"
        self.stdout.write(
            f"Audit trail intact: {_plural(verdict.blocks, 'block')}, "
            f"{_plural(verdict.rows, 'row')} verified, {head}; "
            f"{_plural(verdict.unsealed, 'newer row')} not sealed yet."
        )
