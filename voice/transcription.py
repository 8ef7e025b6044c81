"""Transcription of voicemail: an interface, and the null engine the product ships with.

No Chinese speech model can be installed or tested here, so the engine is chosen by the setting
VOICE_TRANSCRIPTION_ENGINE (a dotted path to a class) and the default hears nothing: staff
listen to the voicemail. A real engine (one that runs in the hospital or at a domestic provider:
a caller's voice is personal information and stays in the country) implements `transcribe`:

    class Engine:
        def transcribe(self, audio: bytes, content_type: str) -> str: ...

It is asked once per voicemail, right after the voicemail is fetched (voice.services.
recording_fetch); what it hears is kept on the recording and shown with the callback task. An
engine that fails is logged and the voicemail kept without words."""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# What is kept of a transcript.
MAX_CHARACTERS = 4000


class Engine(Protocol):
    def transcribe(self, audio: bytes, content_type: str) -> str: ...


class NullEngine:
    """Hears nothing."""

    def transcribe(self, audio: bytes, content_type: str) -> str:
        return ""


def engine() -> Engine:
    return import_string(settings.VOICE_TRANSCRIPTION_ENGINE)()


def transcript_of(audio: bytes, content_type: str) -> str:
    """What the engine hears in `audio`, or "" (the null engine, or an engine that failed)."""
    try:
        text = engine().transcribe(audio, content_type)
    except Exception:  # an engine's failure must not lose the voicemail
        logger.exception("The transcription engine failed; the voicemail is kept without words.")
        return ""
    return (text or "").strip()[:MAX_CHARACTERS]
