# Celery tasks of Consultation desk: ids in, one service call, acks_late, time limits.
