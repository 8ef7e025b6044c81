"""Survey answers in bulk for the reports' benchmark: responses from the survey page and from
calls, spread over the last `months` months, each with the six dimensions (1–5) and a recommend
score (0–10), linked to random existing visits (with their department and doctor). COPY on
Postgres, bulk_create elsewhere."""

import datetime
import random
import sys
from time import perf_counter

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from demo import bulk
from guide.models import Visit
from surveys.models import CALL_DIMENSIONS, Dimension, SurveyAnswer, SurveyResponse, SurveyTemplate

BATCH = 20_000
PER_RESPONSE = len(CALL_DIMENSIONS) + 1


def seed_answers(n_answers: int, *, months: int = 13, seed=None, stdout=None) -> int:
    out = stdout or sys.stdout
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    bounds = Visit.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        raise ValueError("seed visits first")
    template = SurveyTemplate.objects.filter(is_default=True).first()
    n_responses = n_answers // PER_RESPONSE + 1
    now = timezone.now()
    span = months * 30 * 24 * 3600
    began = perf_counter()
    done = 0
    while done < n_responses:
        size = min(BATCH, n_responses - done)
        ids = [rng.randint(bounds["low"], bounds["high"]) for _n in range(size)]
        visits = {
            pk: (client, department, expert, channel)
            for pk, client, department, expert, channel in Visit.objects.filter(
                pk__in=ids
            ).values_list("pk", "client_id", "department_id", "expert_id", "channel_id")
        }
        responses, answers = [], []
        for pk in ids:
            if pk not in visits:
                continue
            client, department, expert, _channel = visits[pk]
            base = rng.choice([5, 5, 5, 4, 4, 4, 3, 2])
            scores = [max(1, min(5, base + rng.choice([-1, 0, 0, 0, 1]))) for _d in CALL_DIMENSIONS]
            recommend = max(0, min(10, base * 2 + rng.choice([-2, -1, 0, 0, 1])))
            source = "survey" if rng.random() < 0.6 else "call"
            responses.append(
                {
                    "template_id": template.pk if template and source == "survey" else None,
                    "source": source,
                    "client_id": client,
                    "visit_id": pk,
                    "department_id": department,
                    "expert_id": expert,
                    "recommend": recommend,
                    "lowest_score": min(scores),
                    "comment": "",
                    "needs_recovery": min(scores) <= 2 or recommend <= 6,
                    "submitted_at": now - datetime.timedelta(seconds=rng.randrange(span)),
                    "_scores": scores,
                }
            )
        with transaction.atomic():
            bulk.insert(SurveyResponse, responses)
            for row in responses:
                for dimension, score in zip(CALL_DIMENSIONS, row["_scores"], strict=True):
                    answers.append(
                        {
                            "response_id": row["id"],
                            "dimension": dimension,
                            "score": score,
                            "text": "",
                        }
                    )
                answers.append(
                    {
                        "response_id": row["id"],
                        "dimension": Dimension.RECOMMEND,
                        "score": row["recommend"],
                        "text": "",
                    }
                )
            bulk.write(SurveyAnswer, answers)
        done += size
        out.write(
            f"  {done * PER_RESPONSE:,}/{n_answers:,} answers,"
            f" {done * PER_RESPONSE / (perf_counter() - began):,.0f} answers/s\n"
        )
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {SurveyResponse._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {SurveyAnswer._meta.db_table}")
    return done
