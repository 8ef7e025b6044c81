"""The models of the post-exam service, one module a part (each has one owner):

- results: what each exam item yields (ResultDefinition, ReferenceRange, Finding), the values
  entered or imported (ExamResult, its history ExamResultRevision) and the release (ResultRelease);
- alerts: abnormal and critical values followed to the end (ResultAlert, its history
  ResultAlertEvent);
- assessment: the health assessment and management plan written from released results;
- rounds: an enterprise's exam round and its team report.
"""

from .alerts import ResultAlert, ResultAlertEvent
from .assessment import HealthAssessment
from .results import (
    ExamResult,
    ExamResultRevision,
    Finding,
    ReferenceRange,
    ResultDefinition,
    ResultRelease,
)
from .rounds import ExamRound

__all__ = [
    "ExamResult",
    "ExamResultRevision",
    "ExamRound",
    "Finding",
    "HealthAssessment",
    "ReferenceRange",
    "ResultAlert",
    "ResultAlertEvent",
    "ResultDefinition",
    "ResultRelease",
]
