from tests.english import english_messages  # noqa: F401 (an autouse fixture: English here)
