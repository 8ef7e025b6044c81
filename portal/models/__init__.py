"""The portal's models, one module per part: who signs in and how (signin), and each part's own
records in its module."""

from .consult import ConsultEvent, ConsultMessage, ConsultPhoto, ConsultThread
from .data import DataRequest, DataRequestEvent
from .results import ResultsSeen
from .signin import PatientSession, PortalDependant, SignInAttempt, SignInCode

__all__ = [
    "ConsultEvent",
    "ConsultMessage",
    "ConsultPhoto",
    "ConsultThread",
    "DataRequest",
    "DataRequestEvent",
    "PatientSession",
    "PortalDependant",
    "ResultsSeen",
    "SignInAttempt",
    "SignInCode",
]
