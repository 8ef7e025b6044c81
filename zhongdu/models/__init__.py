from .audit import AuditAction, AuditEvent, Heartbeat
from .directory import (
    Channel,
    ClinicSession,
    Department,
    Expert,
    KnowledgeArticle,
    PriceItem,
    SessionTemplate,
)

__all__ = [
    "AuditAction",
    "AuditEvent",
    "Channel",
    "ClinicSession",
    "Department",
    "Expert",
    "Heartbeat",
    "KnowledgeArticle",
    "PriceItem",
    "SessionTemplate",
]
