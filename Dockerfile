# The production image: one image for web (gunicorn), worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app
# Pango and the Chinese fonts WeasyPrint lays the PDFs out with (zhongdu/pdf.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home --home-dir /home/zhongdu zhongdu

COPY pyproject.toml README.md ./
COPY config ./config
COPY zhongdu ./zhongdu
COPY clientmgmt ./clientmgmt
COPY referrals ./referrals
COPY messaging ./messaging
COPY complaints ./complaints
COPY consult ./consult
COPY guide ./guide
COPY followup ./followup
COPY surveys ./surveys
COPY events ./events
COPY vip ./vip
COPY exams ./exams
COPY portal ./portal
COPY voice ./voice
COPY reports ./reports
COPY demo ./demo
RUN pip install .

COPY . .
# collectstatic only needs some key; the real one comes from the environment at run time.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=Wm3vH0w4n7QKfXq5b1o8Yx2cLp6Tz9Rj3Ue0Sa4Dk1E= \
    SEARCH_HASH_KEY=build-only AUDIT_SEAL_KEYS=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var /app/private && chown -R zhongdu /app/var /app/private

USER zhongdu
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
