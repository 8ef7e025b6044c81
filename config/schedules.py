"""Default periodic jobs, installed into django-celery-beat's tables by
`manage.py install_schedules` (idempotent). Administrators may change them in the admin; the
command creates what is missing and leaves edited schedules alone."""

DEFAULT_SCHEDULES = [
    # (name, task, every seconds)
    ("zhongdu.heartbeat", "zhongdu.tasks.heartbeat", 60),
    # Seals the audit rows older than AUDIT_SEAL_LAG_SECONDS into chained HMAC blocks
    # (zhongdu.services.audit_seal; checked by `manage.py audit_verify`).
    ("zhongdu.audit_seal", "zhongdu.tasks.audit_seal", 60),
    # Due and lost messages are queued, abandoned claims settled (messaging.services).
    ("messaging.outbox_sweep", "messaging.tasks.outbox_sweep", 10),
    # Keeps four weeks of dated clinic sessions ahead of today; existing sessions are left alone.
    ("zhongdu.clinic_sessions_generate", "zhongdu.tasks.clinic_sessions_generate", 86400),
    # Hourly, but it only acts on days that are over (sessions before today, and today's from
    # 21:00 hospital time): the evening's run turns the day's unchecked bookings into no-shows
    # with recalls, later runs find nothing left (consult.services.booking_mark_no_shows).
    ("consult.bookings_mark_no_shows", "consult.tasks.bookings_mark_no_shows", 3600),
    # Follow-up's survey SMS: a visit's link two hours after it ends (the slip's QR code comes
    # first), and one reminder to non-responders (surveys.services).
    ("surveys.send", "surveys.tasks.surveys_send", 900),
    ("surveys.remind", "surveys.tasks.surveys_remind", 3600),
    # Market survey rounds whose sending job stopped are started again (surveys.services).
    ("surveys.rounds_resume", "surveys.tasks.survey_rounds_resume", 600),
    # Completed exam orders (those with results once the results are released) start their
    # health assessment call and plan (followup.services).
    ("followup.exam_followups_start", "followup.tasks.exam_followups_start", 3600),
    # Seasonal health reminders by finding (sun protection before summer ...): a generic SMS once
    # per client, finding and year, in the finding's months (exams.assessment).
    ("exams.seasonal_reminders", "exams.tasks.exam_seasonal_reminders", 86400),
    # Complaint deadlines: warns the handler before one, escalates to the managers when one is
    # missed; each once (complaints.services.complaints_check_deadlines).
    (
        "complaints.complaints_check_deadlines",
        "complaints.tasks.complaints_check_deadlines",
        900,
    ),
    # Critical exam values not followed by their deadline are escalated at once (clock time),
    # abnormal ones closed with their return-visit call (exams.alerts.alerts_check_deadlines).
    ("exams.alerts_check_deadlines", "exams.tasks.alerts_check_deadlines", 60),
    # The dashboard's daily figures: today and yesterday every five minutes, the last weeks
    # nightly (late data), older days when a booking's history touches them (an outcome later
    # than the nightly window), and the monthly pack on the first working day of a month.
    ("reports.refresh_today", "reports.tasks.reports_refresh_today", 300),
    ("reports.refresh_nightly", "reports.tasks.reports_refresh_nightly", 86400),
    ("reports.refresh_late", "reports.tasks.reports_refresh_late", 300),
    ("reports.monthly_pack", "reports.tasks.reports_monthly_pack", 3600),
    # VIP: the nightly qualification (grants or candidates, renewals, lapses with a notice to the
    # VIP managers; idempotent, vip.services.qualification_run). Every 86400 s from when it is
    # installed: the hour of the night is set in the admin's beat schedule (a crontab such as
    # 02:30 in place of the interval), which install_schedules then leaves alone.
    ("vip.qualification_run", "vip.tasks.vip_qualification_run", 86400),
    # VIP care calls at the policy's cadence, one per VIP and period (vip.services).
    ("vip.care_calls_plan", "vip.tasks.vip_care_calls_plan", 86400),
    # The hotline's recordings past their retention period (the admin's recording retention,
    # by the call's category; held while a complaint is open) lose their audio, their rows stay
    # (voice.services.recordings_purge_expired; safe to re-run).
    ("voice.recordings_purge_expired", "voice.tasks.recordings_purge_expired", 86400),
    # Keypad surveys by telephone after visits whose client cannot get the survey's link by SMS
    # (voice.surveys; one per visit, safe to re-run).
    ("voice.keypad_surveys_send", "voice.tasks.keypad_surveys_send", 900),
]
