# Celery tasks of Follow-up: ids in, one service call, acks_late, time limits.
