"""Forms of the client record that create something carry a one-time key: the same form posted
twice (a double click on a slow network, a resubmitted tab) writes one record."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clientmgmt.models import ClientImport
from referrals.models import Referral
from tests.clientmgmt.factories import ClientFactory

pytestmark = pytest.mark.django_db

UPLOAD = reverse("clientmgmt:import_upload")
CSV = "姓名,性别,出生日期,手机\n李娜,女,1990-03-07,13912345678\n".encode()


def _hidden_key(page, form="form") -> str:
    key = page.context[form].initial["key"]
    assert f'name="key" value="{key}"' in page.content.decode()
    return key


def test_a_double_click_on_record_the_referral_records_one(consultant_client):
    client = ClientFactory()
    url = reverse("referrals:referral_new") + f"?client={client.pk}"
    key = _hidden_key(consultant_client.get(url))
    form = {"source": "clinic", "referrer": "康宁诊所", "note": "痤疮转诊", "key": key}
    first = consultant_client.post(url, form)
    second = consultant_client.post(url, form)
    assert first["Location"] == second["Location"] == client.get_absolute_url()
    assert Referral.objects.get().events.count() == 1


def test_a_double_click_on_upload_keeps_one_client_import(client_manager_client):
    key = _hidden_key(client_manager_client.get(UPLOAD))
    first = client_manager_client.post(
        UPLOAD, {"file": SimpleUploadedFile("clients.csv", CSV), "key": key}
    )
    second = client_manager_client.post(
        UPLOAD, {"file": SimpleUploadedFile("clients.csv", CSV), "key": key}
    )
    job = ClientImport.objects.get()
    assert first["Location"] == second["Location"] == job.get_absolute_url()
    assert job.rows.count() == 1
