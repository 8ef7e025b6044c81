import pytest

from zhongdu import sms


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_BACKEND = "memory"
    # No quiet hours unless a test sets them: the suite may run at any hour.
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0
    sms.clear()
    yield
    sms.clear()
