"""The one policy base (zhongdu.models.Policy): `current()` gives the rules in force, made from
the defaults on first use; a singleton is one row edited in place, a versioned policy adds an
unchangeable row per change. Their admin (zhongdu.admin.PolicyAdmin) follows."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils.translation import gettext as _

from consult.models import BookingPolicy
from followup.models import FollowUpPolicy
from messaging.models import SmsRoutePolicy
from surveys.models import SurveyPolicy
from tests.factories import UserFactory
from vip.models import VipPolicy
from voice.models import RecordingPolicy
from zhongdu.models import HospitalProfile, Immutable, Policy, WorkingHours

pytestmark = pytest.mark.django_db

SINGLETONS = [BookingPolicy, FollowUpPolicy, SurveyPolicy, WorkingHours, RecordingPolicy]
VERSIONED = [VipPolicy, HospitalProfile, SmsRoutePolicy]


@pytest.mark.parametrize("model", SINGLETONS)
def test_a_singleton_is_made_with_its_defaults_on_first_use_and_then_found(model):
    assert not model.objects.exists()
    policy = model.current()
    assert policy.pk == 1
    for field in model._meta.concrete_fields:
        if field.has_default():
            assert getattr(policy, field.attname) == field.get_default()
    assert model.current() == policy
    assert model.objects.count() == 1


def test_a_singleton_saved_again_edits_the_one_row():
    BookingPolicy.current()
    BookingPolicy(vip_share_percent=25).save()
    assert list(BookingPolicy.objects.values_list("pk", "vip_share_percent")) == [(1, 25)]
    assert BookingPolicy.current().vip_share_percent == 25


def test_a_versioned_policy_starts_with_the_default_rules_and_the_newest_is_in_force():
    first = VipPolicy.current()
    assert first.note == str(_("Default rules"))
    assert VipPolicy.current() == first
    newer = VipPolicy.objects.create(grace_days=30, note="shorter grace")
    assert VipPolicy.current() == newer
    assert VipPolicy.objects.count() == 2


def test_a_policy_version_cannot_be_changed_or_removed():
    policy = VipPolicy.current()
    policy.grace_days = 1
    with pytest.raises(Immutable):
        policy.save()
    with pytest.raises(Immutable):
        VipPolicy.objects.update(grace_days=1)
    with pytest.raises(Immutable):
        VipPolicy.objects.all().delete()
    assert VipPolicy.current().grace_days == 90


def test_every_policy_model_has_its_admin():
    policies = [m for m in admin.site._registry if issubclass(m, Policy)]
    assert set(policies) == {*SINGLETONS, *VERSIONED}


def _admin_of(model):
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return admin.site._registry[model], request


@pytest.mark.parametrize("model", SINGLETONS)
def test_a_singletons_admin_edits_the_row_and_never_adds_a_second_or_deletes(model):
    model_admin, request = _admin_of(model)
    assert model_admin.has_add_permission(request)  # no row yet: the first may be added
    policy = model.current()
    assert not model_admin.has_add_permission(request)
    assert model_admin.has_change_permission(request, policy)
    assert not model_admin.has_delete_permission(request, policy)


@pytest.mark.parametrize("model", VERSIONED)
def test_a_versioned_policys_admin_adds_versions_and_never_changes_or_deletes_one(model):
    model_admin, request = _admin_of(model)
    policy = model.current()
    assert model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, policy)
    assert not model_admin.has_delete_permission(request, policy)
