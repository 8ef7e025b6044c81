# Celery tasks of VIP: ids in, one service call, acks_late, time limits.
