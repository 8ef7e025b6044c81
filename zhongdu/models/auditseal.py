from django.db import models
from django.utils.translation import gettext_lazy as _

from .appendonly import AppendOnlyModel


class AuditSeal(AppendOnlyModel):
    """One sealed block of the audit trail: the AuditEvent rows `first_audit_id` to
    `last_audit_id` (every row in that range, in id order), an HMAC over them chained to the
    previous block's. Written only by zhongdu.services.audit_seal; checked by `manage.py
    audit_verify` (zhongdu/auditseal.py holds the serialisation and the check)."""

    first_audit_id = models.BigIntegerField(_("first audit id"))
    last_audit_id = models.BigIntegerField(_("last audit id"))
    row_count = models.PositiveIntegerField(_("rows"))
    # HMAC-SHA256 (hex) over this block's header and its rows' MACs, with the key `key_id`.
    digest = models.CharField(_("digest"), max_length=64)
    # The digest of the block before; empty for the first block.
    previous_digest = models.CharField(_("previous digest"), max_length=64, blank=True)
    # A fingerprint of the sealing key (zhongdu.auditseal.key_id), never the key.
    key_id = models.CharField(_("key id"), max_length=16)
    sealed_at = models.DateTimeField(_("sealed at"))
    # Per row, its id and the first 8 bytes of its MAC (16 bytes a row): what lets the check name
    # the row that was changed, removed or slipped in, not only the block.
    row_macs = models.BinaryField(_("row MACs"))

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["first_audit_id"]
        constraints = [
            # One successor per block: two sealers racing to extend the chain cannot both write
            # (on Postgres they also take turns on an advisory lock; SQLite has one writer).
            models.UniqueConstraint(fields=["previous_digest"], name="auditseal_previous_unique"),
            # No audit row sealed twice; also the index the check walks the chain by.
            models.UniqueConstraint(fields=["first_audit_id"], name="auditseal_first_id_unique"),
            models.CheckConstraint(
                condition=models.Q(first_audit_id__lte=models.F("last_audit_id"), row_count__gt=0),
                name="auditseal_range_valid",
            ),
        ]

    def __str__(self):
        return f"{self.first_audit_id}-{self.last_audit_id} {self.digest[:12]}"
