from .appendonly import AppendOnlyModel, AppendOnlyQuerySet, Immutable
from .audit import AuditAction, AuditEvent, Heartbeat
from .auditseal import AuditSeal
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
from .policy import Policy, VersionedPolicy
from .profile import HospitalProfile

__all__ = [
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "AuditAction",
    "AuditEvent",
    "AuditSeal",
    "CalendarDay",
    "Channel",
    "ClinicSession",
    "Department",
    "Expert",
    "Heartbeat",
    "HospitalProfile",
    "Immutable",
    "KnowledgeArticle",
    "Notification",
    "Policy",
    "PriceItem",
    "SessionTemplate",
    "VersionedPolicy",
    "WorkingHours",
]
