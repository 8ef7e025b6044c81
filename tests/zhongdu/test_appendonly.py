"""The one append-only base (zhongdu.models.AppendOnlyModel): every history row is written once,
never changed or deleted, and every model named *Event takes it up."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from clientmgmt.models import ClientEvent
from tests.clientmgmt.factories import ClientFactory
from vip.models import VipPolicy
from zhongdu.models import AppendOnlyModel, AuditEvent, Immutable

pytestmark = pytest.mark.django_db


def _history_models():
    return [model for model in apps.get_models() if issubclass(model, AppendOnlyModel)]


def test_a_history_row_refuses_to_be_changed_or_deleted():
    client = ClientFactory(name="王芳")
    event = client.events.get()
    event.detail = "rewritten"
    with pytest.raises(Immutable):
        event.save()
    with pytest.raises(Immutable):
        event.delete()
    with pytest.raises(Immutable):
        ClientEvent.objects.filter(pk=event.pk).update(detail="rewritten")
    with pytest.raises(Immutable):
        client.events.update(detail="rewritten")
    with pytest.raises(Immutable):
        ClientEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.detail == ""


def test_history_is_still_written_one_by_one_and_in_batches():
    client = ClientFactory(name="王芳")
    ClientEvent.objects.create(client=client, kind=ClientEvent.Kind.REVIEWED)
    ClientEvent.objects.bulk_create(
        [ClientEvent(client=client, kind=ClientEvent.Kind.CONSENT) for _ in range(2)]
    )
    assert client.events.count() == 4


def test_a_deleted_owner_takes_its_history_with_it():
    client = ClientFactory(name="王芳")
    client.delete()
    assert not ClientEvent.objects.filter(client_id=client.pk).exists()


def test_the_refusal_is_a_validation_error_in_the_models_own_words():
    policy = VipPolicy.current()
    policy.note = "changed"
    with translation.override("en"), pytest.raises(ValidationError, match="add a new version"):
        policy.save()
    assert AuditEvent.Immutable is Immutable


def test_every_model_named_event_is_append_only():
    # followup's Event is a health talk or a patient day, not a history row.
    named = {
        model._meta.label
        for model in apps.get_models()
        if model.__name__.endswith("Event") and model.__name__ != "Event"
    }
    assert named
    assert named - {model._meta.label for model in _history_models()} == set()


def test_the_base_adds_no_column():
    # It is abstract: a model that takes it up keeps its table (no migration).
    assert AppendOnlyModel._meta.abstract
    assert [field.name for field in AppendOnlyModel._meta.get_fields()] == []
