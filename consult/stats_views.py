"""Views of the consultation analysis: the page and its Excel export (audited).

Access (zhongdu/roles.py PAGE_ACCESS): managers, client managers, administrators and
consultants. Consultants see every consultant's figures, so that the desk can compare itself;
the front desk and the VIP managers do not take enquiries and do not see them.
"""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from zhongdu import audit
from zhongdu.exports import audited_download

from . import exports, stats


def _period(request) -> str:
    period = request.GET.get("period", stats.WEEK)
    return period if period in stats.PERIODS else stats.WEEK


@require_GET
def consult_stats(request):
    period = _period(request)
    figures = stats.consult_stats(period=period)
    context = {
        "stats": figures,
        "period": period,
        "periods": [(key, label) for key, label in stats.PERIOD_LABELS.items()],
        "window_days": stats.CONVERSION_WINDOW.days,
    }
    return render(request, "consult/stats.html", context)


@require_GET
def consult_stats_export(request):
    period = _period(request)
    figures = stats.consult_stats(period=period)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return audited_download(
        request,
        exports.stats_workbook(figures),
        filename=f"consult-stats-{period}-{stamp}",
        object_type="consult.stats",
        object_repr=audit.note("consult.stats", period=period, since=figures.since.isoformat()),
    )
