"""Reads of the survey engine: the survey link's lookup, the weekly satisfaction summary, the list
of responses, market survey rounds, and the client page's timeline source (satisfaction
answers)."""

import datetime

from django.db.models import Avg, Count, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.registry import TimelineEntry, timeline_columns

from .models import (
    CALL_DIMENSIONS,
    Dimension,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyTemplate,
)


def invitation_by_token(token: str) -> SurveyInvitation | None:
    return (
        SurveyInvitation.objects.select_related("template", "client", "visit__department")
        .filter(token=token)
        .first()
    )


def week_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 to the next Monday 00:00, hospital time, of the week holding `day`."""
    tz = timezone.get_default_timezone()
    monday = day - datetime.timedelta(days=day.weekday())
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=7)


# The satisfaction dimensions of the summary, in the order of the paper form (1–5 each).
SUMMARY_DIMENSIONS = CALL_DIMENSIONS


def satisfaction_responses():
    """Answers about the hospital's service: the satisfaction survey's and those given on
    return-visit calls (which have no template). Market surveys ask other things and stay out
    of the satisfaction figures."""
    return SurveyResponse.objects.filter(
        Q(template__isnull=True) | Q(template__kind=SurveyTemplate.Kind.SATISFACTION)
    )


def weekly_summary(day: datetime.date) -> dict:
    """The satisfaction answers of the week holding `day` (Monday to Sunday, hospital time),
    from the survey page and from calls: counts, averages by dimension overall and by
    department, the recommend (0-10) average and NPS, and every comment. Five queries whatever
    the week's size; the database computes the averages."""
    start, end = week_bounds(day)
    responses = satisfaction_responses().filter(submitted_at__gte=start, submitted_at__lt=end)
    counts = responses.aggregate(
        total=Count("pk"),
        survey=Count("pk", filter=Q(source=SurveyResponse.Source.SURVEY)),
        call=Count("pk", filter=Q(source=SurveyResponse.Source.CALL)),
        keypad=Count("pk", filter=Q(source=SurveyResponse.Source.KEYPAD)),
        recovery=Count("pk", filter=Q(needs_recovery=True)),
    )
    answers = SurveyAnswer.objects.filter(response__in=responses, score__isnull=False)
    # The 1–5 dimensions only: a template's "other" scale question is not one of the form's.
    scale = answers.filter(dimension__in=SUMMARY_DIMENSIONS)
    by_dimension = {
        dimension: {"average": average, "count": n}
        for dimension, average, n in scale.values_list("dimension")
        .annotate(average=Avg("score"), n=Count("pk"))
        .order_by()
    }
    by_department: dict[str, dict] = {}
    for department, dimension, average, n in (
        scale.values_list("response__department__name", "dimension")
        .annotate(average=Avg("score"), n=Count("pk"))
        .order_by()
    ):
        by_department.setdefault(department or "", {})[dimension] = {
            "average": average,
            "count": n,
        }
    recommend = answers.filter(dimension=Dimension.RECOMMEND).aggregate(
        count=Count("pk"),
        average=Avg("score"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    n = recommend["count"]
    comments = list(
        responses.exclude(comment="")
        .select_related("department", "client")
        .only(
            "id",
            "comment",
            "source",
            "submitted_at",
            "needs_recovery",
            "client__id",
            "client__is_vip",
            "department__name",
        )
        .order_by("submitted_at", "pk")
    )
    return {
        "start": start.date(),
        "end": (end - datetime.timedelta(days=1)).date(),
        "counts": counts,
        "by_dimension": by_dimension,
        # [(department name, {dimension: {average, count}})] by name; "" (visits without a
        # department, and calls not about a visit) last.
        "by_department": sorted(by_department.items(), key=lambda item: (not item[0], item[0])),
        "recommend_average": recommend["average"],
        "recommend_count": n,
        "promoters": recommend["promoters"],
        "detractors": recommend["detractors"],
        # Net promoter score: promoters (9-10) minus detractors (0-6), in % of the answers.
        "nps": round(100 * (recommend["promoters"] - recommend["detractors"]) / n) if n else None,
        "comments": comments,
    }


def response_list(*, source="", needs_recovery=None, department=None, week=None):
    """Survey responses newest first (by -id, for keyset pages) with what a row shows and the
    service-recovery call a low one made: one query per page whatever is filtered."""
    qs = SurveyResponse.objects.all()
    if source:
        qs = qs.filter(source=source)
    if needs_recovery is not None:
        qs = qs.filter(needs_recovery=needs_recovery)
    if department is not None:
        qs = qs.filter(department=department)
    if week is not None:
        start, end = week_bounds(week)
        qs = qs.filter(submitted_at__gte=start, submitted_at__lt=end)
    # The service-recovery call a low response made: followup declares the relation
    # (FollowUpCall.recovery_for, related name "recovery_calls"); the survey engine reads it
    # without importing the layer above, and lists no call where there is none.
    recovery_call = (
        SurveyResponse._meta.get_field("recovery_calls")
        .related_model.objects.filter(recovery_for=OuterRef("pk"))
        .order_by("pk")
        .values("pk")[:1]
    )
    return (
        qs.select_related("client", "department", "expert", "template")
        .only(
            "id",
            "source",
            "submitted_at",
            "lowest_score",
            "recommend",
            "comment",
            "needs_recovery",
            "client__id",
            "client__name",
            "client__is_vip",
            "department__name",
            "expert__name",
            "template__name",
            "template__name_en",
        )
        .annotate(recovery_call_id=Subquery(recovery_call))
        .order_by("-id")
    )


# --- Market survey rounds -------------------------------------------------------------

# Written answers shown per text question on the round's page (the workbook has them all).
ROUND_TEXT_ANSWERS = 30


def round_list():
    return SurveyRound.objects.select_related("template", "created_by").order_by("-pk")


def round_get(pk: int) -> SurveyRound:
    return get_object_or_404(SurveyRound.objects.select_related("template"), pk=pk)


def _round_messages(survey_round: SurveyRound):
    """The round's outbox rows (the keys name the round). Only the messages written since the
    round began are read (outbox_created_idx), not the whole outbox for a key prefix no index
    serves."""
    from messaging.models import OutboxMessage

    return OutboxMessage.objects.filter(
        created_at__gte=survey_round.created_at,
        idempotency_key__startswith=f"survey-round:{survey_round.pk}:",
    )


def round_outcomes(survey_round: SurveyRound) -> dict:
    """The round's SMS by final outcome, the suppressed by reason (messaging.selectors)."""
    from messaging.selectors import outbox_outcomes

    return outbox_outcomes(_round_messages(survey_round))


ROUND_SMS_TEMPLATE = "market_survey"  # the SMS a market-survey round sends


def round_breakdown(segment: dict, *, at) -> dict:
    """What a round with this segment sent at `at` will do to each client of the segment
    (messaging.selectors.audience_breakdown; a round is marketing whatever its SMS template)."""
    from messaging.models import Kind
    from messaging.selectors import audience_breakdown, campaign_segment

    return audience_breakdown(
        campaign_segment(segment), template_code=ROUND_SMS_TEMPLATE, kind=Kind.MARKETING, at=at
    )


def round_message_counts(survey_round: SurveyRound) -> dict:
    """The round's SMS by outcome. Polled while the round sends."""
    from messaging.models import OutboxMessage

    counts = dict(
        _round_messages(survey_round).values_list("status").annotate(n=Count("pk")).order_by()
    )
    return {status: counts.get(status, 0) for status in OutboxMessage.Status.values}


def round_results(survey_round: SurveyRound, *, language: str = "zh-hans") -> dict:
    """What the round's answers say, question by question: the spread of scores and their
    average, the count of each offered choice, the latest written answers. Four queries plus
    one per text question, whatever the number of answers; no names."""
    answered = survey_round.invitations.filter(used_at__isnull=False).count()
    answers = SurveyAnswer.objects.filter(response__invitation__round=survey_round)
    scores: dict[int, dict[int, int]] = {}
    for question_id, score, n in (
        answers.filter(score__isnull=False)
        .values_list("question_id", "score")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        scores.setdefault(question_id, {})[score] = n
    choices: dict[int, dict[str, int]] = {}
    for question_id, text, n in (
        answers.filter(question__type=SurveyQuestion.Type.CHOICE)
        .values_list("question_id", "text")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        choices.setdefault(question_id, {})[text] = n
    questions = []
    for question in survey_round.template.questions.all():
        english = language.startswith("en")
        row = {
            "question": question,
            "text": (question.text_en if english else "") or question.text,
            "type": question.type,
        }
        if question.type in (SurveyQuestion.Type.SCALE, SurveyQuestion.Type.RECOMMEND):
            spread = scores.get(question.pk, {})
            low, high = (0, 10) if question.type == SurveyQuestion.Type.RECOMMEND else (1, 5)
            n = sum(spread.values())
            row |= {
                "count": n,
                "average": sum(s * c for s, c in spread.items()) / n if n else None,
                "bars": [_bar(str(s), spread.get(s, 0), n) for s in range(low, high + 1)],
            }
        elif question.type == SurveyQuestion.Type.CHOICE:
            counted = choices.get(question.pk, {})
            n = sum(counted.values())
            offered = question.choice_list(language)
            bars = [_bar(label, counted.pop(value, 0), n) for value, label in offered]
            # Answers to a choice since removed from the question still count.
            bars += [_bar(value, c, n) for value, c in sorted(counted.items())]
            row |= {"count": n, "bars": bars}
        else:
            texts = answers.filter(question=question).exclude(text="")
            row |= {
                "count": texts.count(),
                "texts": list(
                    texts.order_by("-pk").values_list("text", flat=True)[:ROUND_TEXT_ANSWERS]
                ),
            }
        questions.append(row)
    return {
        "answered": answered,
        "rate": round(100 * answered / survey_round.invited) if survey_round.invited else None,
        "questions": questions,
    }


def _bar(label: str, n: int, total: int) -> dict:
    return {"label": label, "count": n, "percent": round(100 * n / total) if total else 0}


def round_answer_rows(survey_round: SurveyRound):
    """Every response of the round with its answers, for the workbook: (response, {question id:
    answer}) in the order answered. Two queries; no names, the response number only."""
    responses = list(
        SurveyResponse.objects.filter(invitation__round=survey_round)
        .only("id", "submitted_at")
        .order_by("submitted_at", "pk")
    )
    by_response: dict[int, dict[int, object]] = {}
    for response_id, question_id, score, text in SurveyAnswer.objects.filter(
        response__invitation__round=survey_round
    ).values_list("response_id", "question_id", "score", "text"):
        by_response.setdefault(response_id, {})[question_id] = score if score is not None else text
    return [(response, by_response.get(response.pk, {})) for response in responses]


# --- The client page's timeline -----------------------------------------------------


def response_rows(client):
    return SurveyResponse.objects.filter(client=client).values(
        **timeline_columns(
            kind="survey",
            at="submitted_at",
            status="source",
            first="lowest_score",
            second="recommend",
            third="comment",
        )
    )


def response_entry(row) -> TimelineEntry:
    parts = []
    if row["t_first"]:
        parts.append(_("lowest score %(score)s/5") % {"score": row["t_first"]})
    if row["t_second"]:
        parts.append(_("recommend %(score)s/10") % {"score": row["t_second"]})
    if row["t_third"]:
        parts.append(row["t_third"][:200])
    return TimelineEntry(
        at=row["t_at"],
        kind="survey",
        title=_("Satisfaction answers (%(source)s)")
        % {"source": SurveyResponse.Source(row["t_status"]).label},
        detail=" · ".join(str(part) for part in parts),
    )
