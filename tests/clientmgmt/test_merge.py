import pytest
from django.urls import reverse

from clientmgmt import services
from clientmgmt.models import Client, ClientEvent, ClientMerge
from tests.clientmgmt.factories import ID_NUMBERS, ClientFactory
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db


def _merge(client, survivor, merged):
    return client.post(
        reverse("clientmgmt:merge_select"), {"survivor": survivor.pk, "merged": merged.pk}
    )


def test_merging_moves_the_history_fills_blanks_and_can_be_undone(client_manager_client):
    survivor = ClientFactory(name="陈静", phone="13900000001", id_number="")
    merged = ClientFactory(
        name="陈静", phone="13900000002", id_number=ID_NUMBERS[0], date_of_birth=None
    )
    merged_events = set(merged.events.values_list("pk", flat=True))

    response = _merge(client_manager_client, survivor, merged)
    merge = ClientMerge.objects.get()
    assert response["Location"] == merge.get_absolute_url()
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert merged.status == Client.Status.MERGED and merged.merged_into == survivor
    assert merged_events <= set(survivor.events.values_list("pk", flat=True))
    assert survivor.id_number_masked == "110***********4514"  # filled from the merged record
    assert survivor.phone == "+8613900000001"  # not blank: kept
    assert survivor.events.filter(kind=ClientEvent.Kind.MERGED_IN).exists()
    assert AuditEvent.objects.filter(action="update", changed_fields=["merge"]).count() == 2

    client_manager_client.post(reverse("clientmgmt:merge_undo", args=[merge.pk]))
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert merged.status == Client.Status.ACTIVE and merged.merged_into is None
    assert survivor.id_number_hash is None and merged.id_number_masked == "110***********4514"
    assert merged_events <= set(merged.events.values_list("pk", flat=True))
    assert ClientMerge.objects.get().undone_at is not None


def test_a_merged_record_cannot_be_merged_again(client_manager_client):
    a, b, c = ClientFactory(name="甲"), ClientFactory(name="乙"), ClientFactory(name="丙")
    _merge(client_manager_client, a, b)
    response = _merge(client_manager_client, c, b)
    assert response.status_code == 200
    assert ClientMerge.objects.count() == 1


def test_a_record_cannot_be_merged_into_itself(client_manager_client):
    a = ClientFactory(name="甲")
    response = _merge(client_manager_client, a, a)
    assert response.status_code == 200
    assert not ClientMerge.objects.exists()


def test_undoing_twice_is_refused_politely(client_manager_client):
    a, b = ClientFactory(name="甲"), ClientFactory(name="乙")
    _merge(client_manager_client, a, b)
    merge = ClientMerge.objects.get()
    url = reverse("clientmgmt:merge_undo", args=[merge.pk])
    client_manager_client.post(url)
    response = client_manager_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already been undone" in response.content.decode()


def test_the_compare_page_shows_both_records_masked(client_manager_client):
    a = ClientFactory(name="甲", phone="13912345678")
    b = ClientFactory(name="乙")
    response = client_manager_client.get(
        reverse("clientmgmt:merge_select"), {"survivor": a.pk, "merged": b.pk}
    )
    body = response.content.decode()
    assert "139****5678" in body and "13912345678" not in body
    assert not ClientMerge.objects.exists()


def test_front_desk_cannot_merge(front_desk_client):
    a, b = ClientFactory(name="甲"), ClientFactory(name="乙")
    assert _merge(front_desk_client, a, b).status_code == 403


def test_the_merge_service_refuses_to_merge_a_client_into_a_merged_one(role_user):
    a, b = ClientFactory(name="甲"), ClientFactory(name="乙")
    services.client_merge(survivor=a, merged=b, by=role_user("manager"))
    with pytest.raises(services.ValidationError):
        services.client_merge(survivor=b, merged=a, by=role_user("manager"))


def test_every_relation_to_a_client_follows_a_merge_or_is_the_merges_own_bookkeeping():
    from django.apps import apps

    from clientmgmt.services import merge_relations

    registered = {(model._meta.label, name) for model, name in merge_relations()}
    # The merge's own records point at both clients on purpose; merged_into is the merge itself.
    bookkeeping = {
        ("clientmgmt.Client", "merged_into"),
        ("clientmgmt.ClientMerge", "survivor"),
        ("clientmgmt.ClientMerge", "merged"),
        # The consent in force is rebuilt from the history that moves (consent_rebuild).
        ("clientmgmt.ClientConsent", "client"),
    }
    pointing = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.related_model is Client
    }
    assert pointing - bookkeeping - registered == set()


def test_a_no_shows_recall_follows_the_person_and_comes_back_on_undo(role_user):
    from tests.consult.factories import make_no_show
    from zhongdu import roles

    by = role_user(roles.CLIENT_MANAGER)
    survivor, duplicate = ClientFactory(), ClientFactory(name="李娜")
    recall = make_no_show(client=duplicate)
    merge = services.client_merge(survivor=survivor, merged=duplicate, by=by)
    recall.refresh_from_db()
    assert recall.client == survivor and recall.booking.client == survivor
    services.client_unmerge(merge=merge, by=by)
    recall.refresh_from_db()
    assert recall.client == duplicate and recall.booking.client == duplicate


def _relations_to_a_client():
    """Every field of every model that points at a client, found from the other end (each
    model's own fields, many-to-many too): what a merge must either move or leave on purpose."""
    from django.apps import apps

    return {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and field.related_model is Client
    }


def test_a_new_relation_to_a_client_must_be_merged_or_declared_not_merged():
    merged = {f"{model._meta.label}.{name}" for model, name in services.merge_relations()}
    assert _relations_to_a_client() - merged - services.NOT_MERGED == set()
    # The declaration names real relations, and nothing is both moved and left.
    assert services.NOT_MERGED.issubset(_relations_to_a_client())
    assert merged.isdisjoint(services.NOT_MERGED)


def test_the_merge_reads_relations_without_a_reverse_name_too():
    # related_name="+" hides these from Client._meta.related_objects; a merge still moves them.
    from clientmgmt.models import ClientImportRow
    from messaging.models import OutboxMessage

    relations = services.merge_relations()
    assert (ClientImportRow, "client") in relations and (OutboxMessage, "client") in relations
