"""Complaints for tests, made through the real services (deadlines, events, round robin)."""

from django.utils import timezone

from complaints import services as complaints
from complaints.models import Complaint
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from zhongdu import roles

Status = Complaint.Status
# The path from received to each status, step by step (closing needs the result).
PATH = [Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.RESOLVED, Status.CLOSED]


def handler_user(username=None, role=roles.CLIENT_MANAGER, **kwargs):
    if username:
        kwargs["username"] = username
    return UserFactory(roles=[role], **kwargs)


def make_complaint(*, client=None, by=None, words="医生态度很差", **kwargs) -> Complaint:
    return complaints.complaint_create(
        client=client or ClientFactory(), by=by, words=words, **kwargs
    )


def close_kwargs(**overrides) -> dict:
    values = {
        "findings": "接诊医生解释不充分",
        "action_taken": "科室主任当面致歉并加强培训",
        "compensation": "",
        "client_accepted": True,
        "client_called_at": timezone.now(),
    }
    return values | overrides


def move(complaint, status, *, by, **kwargs) -> Complaint:
    extra = close_kwargs() | kwargs if status == Status.CLOSED else kwargs
    return complaints.complaint_set_status(complaint=complaint, new_status=status, by=by, **extra)


def walk_to(complaint, status, *, by) -> Complaint:
    """Move a received complaint along the path up to `status`."""
    for step in PATH:
        if complaint.status == status:
            break
        complaint = move(complaint, step, by=by)
    assert complaint.status == status
    return complaint
