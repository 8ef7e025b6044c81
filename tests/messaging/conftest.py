import pytest


@pytest.fixture(autouse=True)
def _memory_sms(memory_sms):
    """Every test here: tests/conftest.py memory_sms."""
