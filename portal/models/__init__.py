"""The portal's models, one module per part: who signs in and how (signin), and each part's own
records in its module."""

from .consult import ConsultEvent, ConsultMessage, ConsultPhoto, ConsultThread
from .signin import PatientSession, PortalDependant, SignInAttempt, SignInCode

__all__ = [
    "ConsultEvent",
    "ConsultMessage",
    "ConsultPhoto",
    "ConsultThread",
    "PatientSession",
    "PortalDependant",
    "SignInAttempt",
    "SignInCode",
]
