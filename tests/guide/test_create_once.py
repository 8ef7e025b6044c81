"""Forms of the front desk that create something carry a one-time key: the same form posted
twice (a double click on a slow network, a resubmitted tab) writes one record. (The walk-in is
tested in test_walk_in_once.py.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guide.models import Charge, ChargeImport, ExamOrder, MembershipCard
from tests.clientmgmt.factories import ClientFactory
from tests.guide.factories import price, walk_in
from zhongdu.models import PriceItem

pytestmark = pytest.mark.django_db

UPLOAD = reverse("guide:charge_import_upload")
CSV = "就诊号,项目编码,数量,金额,流水号,收费时间\n1,GH001,1,20,B-1,2026-11-29 09:00\n".encode()


def test_a_double_click_on_upload_keeps_one_charge_import(front_desk_client):
    page = front_desk_client.get(UPLOAD)
    key = page.context["form"].initial["key"]
    assert f'name="key" value="{key}"' in page.content.decode()
    answers = [
        front_desk_client.post(UPLOAD, {"file": SimpleUploadedFile("charges.csv", CSV), "key": key})
        for _click in range(2)
    ]
    job = ChargeImport.objects.get()
    assert [answer["Location"] for answer in answers] == [job.get_absolute_url()] * 2


def test_a_double_click_on_order_makes_one_exam_order_and_charges_the_visit_once(
    front_desk_client,
):
    person = ClientFactory()
    visit = walk_in(client=person)
    exam = price("JC020", "80.00", category=PriceItem.Category.EXAM)
    url = reverse("guide:exam_new") + f"?client={person.pk}&visit={visit.pk}"
    page = front_desk_client.get(url)
    key = page.context["form"].initial["key"]
    assert f'name="key" value="{key}"' in page.content.decode()
    answers = [front_desk_client.post(url, {"items": [exam.pk], "key": key}) for _click in (1, 2)]
    order = ExamOrder.objects.get()
    assert [answer["Location"] for answer in answers] == [order.get_absolute_url()] * 2
    assert Charge.objects.filter(visit=visit).count() == 1


def test_a_double_click_on_add_charge_bills_one_line(front_desk_client):
    visit = walk_in()
    registration = price("GH001", "20.00")
    page = front_desk_client.get(visit.get_absolute_url())
    key = page.context["charge_form"].initial["key"]
    assert f'name="key" value="{key}"' in page.content.decode()
    url = reverse("guide:charge_add", args=[visit.pk])
    form = {"price_item": registration.pk, "quantity": "1", "key": key}
    answers = [front_desk_client.post(url, form) for _click in (1, 2)]
    assert [answer.status_code for answer in answers] == [302, 302]
    assert Charge.objects.filter(visit=visit).count() == 1


def test_a_double_click_on_issue_finds_the_card_it_issued(front_desk_client):
    person = ClientFactory()
    url = reverse("guide:card_new") + f"?client={person.pk}"
    page = front_desk_client.get(url)
    form = dict(page.context["form"].initial)
    assert f'name="key" value="{form["key"]}"' in page.content.decode()
    form |= {"level": "standard", "valid_from": form["valid_from"].isoformat()}
    answers = [front_desk_client.post(url, form) for _click in (1, 2)]
    card = MembershipCard.objects.get()
    assert [answer["Location"] for answer in answers] == [card.get_absolute_url()] * 2
