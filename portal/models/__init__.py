"""The portal's models, one module per part: who signs in and how (signin), and each part's own
records in its module."""

from .data import DataRequest, DataRequestEvent
from .results import ResultsSeen
from .signin import PatientSession, PortalDependant, SignInAttempt, SignInCode

__all__ = [
    "DataRequest",
    "DataRequestEvent",
    "PatientSession",
    "PortalDependant",
    "ResultsSeen",
    "SignInAttempt",
    "SignInCode",
]
