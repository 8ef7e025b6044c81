"""One fixture for the test folders that match service messages in English."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages():
    """Service messages are matched in English here; the pages' own language is set per request
    (Accept-Language) and the Chinese catalogue is tested apart."""
    with translation.override("en"):
        yield
