# Celery tasks of Client management: ids in, one service call, acks_late, time limits.
