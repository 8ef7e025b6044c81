# Celery tasks of Front desk: ids in, one service call, acks_late, time limits.
