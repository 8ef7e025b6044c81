"""Results lookup: when a person last looked at the released results of a record they may
see, so the home page can say that new ones came since."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientmgmt.models import Client


class ResultsSeen(models.Model):
    """The last time `viewer` opened the results list of `subject` (their own record or a
    dependant's). One row per pair, moved forward on each look."""

    viewer = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("results seen")
        verbose_name_plural = _("results seen")
        constraints = [
            # The home page's card reads the pair's row (portal.results.results_card).
            models.UniqueConstraint(fields=["viewer", "subject"], name="portal_results_seen_once"),
        ]

    def __str__(self):
        return f"{self.viewer_id} → {self.subject_id}"
