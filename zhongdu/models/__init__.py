from .audit import AuditAction, AuditEvent, Heartbeat
from .calendar import CalendarDay, WorkingHours
from .directory import (
    Channel,
    ClinicSession,
    Department,
    Expert,
    KnowledgeArticle,
    PriceItem,
    SessionTemplate,
)
from .notifications import Notification

__all__ = [
    "AuditAction",
    "AuditEvent",
    "CalendarDay",
    "Channel",
    "ClinicSession",
    "Department",
    "Expert",
    "Heartbeat",
    "KnowledgeArticle",
    "Notification",
    "PriceItem",
    "SessionTemplate",
    "WorkingHours",
]
