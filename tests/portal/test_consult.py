"""The online consultation: a person asks with photos (JPEG and PNG only, by their bytes, size
checked, stripped of location data, kept encrypted, shown only to them and the desk), the desk
answers from its inbox (assignment, a first-answer deadline in working hours, quick replies from
the knowledge articles), the person is told by an SMS that says nothing of the question, and a
thread turns into a booking."""

import datetime
import io
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from clientmgmt.consent import SERVICE_SMS
from clientmgmt.services import consent_withdraw
from messaging.models import OutboxMessage
from messaging.services import outbox_send
from portal import consult_services as services
from portal.models import ConsultEvent, ConsultPhoto, ConsultThread
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from zhongdu import private_files, roles, sms
from zhongdu.models import KnowledgeArticle, WorkingHours

from .conftest import sign_in

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()
QUESTION = "手臂上长了一块红斑，痒，两周了"


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = str(tmp_path / "private")


def jpeg(*, gps=False, size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, "red")
    out = io.BytesIO()
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    if gps:
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef] = "N"
        location[ExifTags.GPS.GPSLatitude] = (34.0, 45.0, 30.0)
        location[ExifTags.GPS.GPSLongitudeRef] = "E"
        location[ExifTags.GPS.GPSLongitude] = (113.0, 37.0, 12.0)
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (20, 30), (0, 128, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # The browser's claimed type is a lie on purpose: the bytes decide.
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def ask(client, text=QUESTION, photos=(), key="", **extra):
    data = {"text": text, "key": key, "photos": list(photos)}
    return client.post(reverse("portal:consult_new"), data, **extra)


def consultant(name="c1"):
    roles.sync_group_permissions()
    return UserFactory(username=name, first_name=name, roles=[roles.CONSULTANT])


def staff_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def make_thread(client_record, text=QUESTION, photos=()):
    return services.thread_ask(client=client_record, text=text, photos=list(photos))


# --- The person asks ----------------------------------------------------------------------


def test_the_person_asks_with_text_and_a_photo_and_sees_their_thread(signed_in, patient):
    answer = ask(signed_in, photos=[upload(jpeg(), "arm.jpg")])
    assert answer.status_code == 302
    thread = ConsultThread.objects.get()
    assert thread.client == patient and thread.status == "open"
    assert answer["Location"] == reverse("portal:consult_thread", args=[thread.token])
    photo = ConsultPhoto.objects.get()
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 64, 48)
    # Encrypted at rest: the file on disk is not a JPEG.
    on_disk = (private_files._root() / photo.file).read_bytes()
    assert not on_disk.startswith(b"\xff\xd8")
    page = signed_in.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert QUESTION in page and "does not diagnose" in page
    shown = signed_in.get(reverse("portal:consult_photo", args=[thread.token, photo.pk]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert "no-store" in shown["Cache-Control"]
    assert Image.open(io.BytesIO(shown.content)).size == (64, 48)
    assert ConsultEvent.objects.filter(thread=thread, action="asked").count() == 1


def test_a_png_is_accepted_and_kept_as_a_png(signed_in):
    assert ask(signed_in, text="", photos=[upload(png(), "x.jpg")]).status_code == 302
    assert ConsultPhoto.objects.get().content_type == "image/png"


@pytest.mark.parametrize(
    "data,name",
    [(gif(), "a.gif"), (b"%PDF-1.7\n1 0 obj\n", "scan.pdf"), (b"\x00garbage" * 50, "x.jpg")],
    ids=["gif", "pdf", "garbage"],
)
def test_anything_but_a_jpeg_or_png_is_refused_with_the_text_kept(signed_in, data, name):
    answer = ask(signed_in, photos=[upload(data, name)], HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "Only photos in JPEG or PNG format can be attached" in page and name in page
    assert QUESTION in page
    assert ConsultThread.objects.count() == 0


def test_a_photo_over_the_size_limit_is_refused(signed_in, settings):
    settings.ONLINE_CONSULT_PHOTO_MAX_BYTES = 1024 * 1024
    photo = jpeg()
    big = photo + b"\x00" * (settings.ONLINE_CONSULT_PHOTO_MAX_BYTES + 1 - len(photo))
    answer = ask(signed_in, photos=[upload(big, "big.jpg")], HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 422
    assert "is larger than 1 MB" in answer.content.decode()
    assert ConsultThread.objects.count() == 0


def test_an_empty_question_is_refused(signed_in):
    answer = ask(signed_in, text="  ", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 422
    assert "Write your question or attach a photo." in answer.content.decode()


def test_the_location_and_camera_are_removed_from_a_photo(signed_in):
    original = jpeg(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert ask(signed_in, photos=[upload(original, "arm.jpg")]).status_code == 302
    stored = private_files.read(ConsultPhoto.objects.get().file)
    kept = Image.open(io.BytesIO(stored))
    assert kept.format == "JPEG"
    assert dict(kept.getexif()) == {}
    assert kept.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert b"Exif" not in stored and b"PhoneMaker" not in stored


def test_a_double_click_asks_once(signed_in):
    key = "a" * 32
    first = ask(signed_in, key=key)
    second = ask(signed_in, key=key)
    assert first["Location"] == second["Location"]
    assert ConsultThread.objects.count() == 1


def test_the_list_is_empty_at_first_then_shows_the_threads(signed_in, patient):
    page = signed_in.get(reverse("portal:consult_list"))
    assert b'data-testid="portal-empty"' in page.content
    make_thread(patient)
    page = signed_in.get(reverse("portal:consult_list"))
    assert QUESTION[:20] in page.content.decode()


def test_another_persons_thread_and_photo_are_not_found(signed_in):
    other = ClientFactory(name="王强", phone="+8613912345678")
    thread = make_thread(other, photos=[services.photo_clean(jpeg())])
    photo = ConsultPhoto.objects.get()
    assert signed_in.get(reverse("portal:consult_thread", args=[thread.token])).status_code == 404
    url = reverse("portal:consult_photo", args=[thread.token, photo.pk])
    assert signed_in.get(url).status_code == 404


def test_the_person_writes_again_and_the_thread_waits_for_the_desk(signed_in, patient):
    thread = make_thread(patient)
    services.thread_answer(thread=thread, text="请来院面诊。", by=consultant())
    url = reverse("portal:consult_thread", args=[thread.token])
    assert signed_in.post(url, {"text": "好的，周几有专家？"}).status_code == 302
    thread.refresh_from_db()
    assert thread.status == "open" and thread.messages.count() == 3


def test_a_closed_thread_takes_no_more_messages(signed_in, patient):
    thread = make_thread(patient)
    services.thread_close(thread=thread, by=consultant())
    url = reverse("portal:consult_thread", args=[thread.token])
    answer = signed_in.post(url, {"text": "还在吗"}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 422 and "This consultation is closed" in answer.content.decode()
    assert thread.messages.count() == 1


def test_the_home_page_shows_unread_answers_until_the_person_reads_them(signed_in, patient):
    thread = make_thread(patient)
    home = reverse("portal:home")
    assert b'data-testid="home-consult"' not in signed_in.get(home).content
    services.thread_answer(thread=thread, text="请来院面诊。", by=consultant())
    assert b'data-testid="home-consult"' in signed_in.get(home).content
    signed_in.get(reverse("portal:consult_thread", args=[thread.token]))
    assert b'data-testid="home-consult"' not in signed_in.get(home).content
    assert reverse("portal:consult_list").encode() in signed_in.get(home).content  # the bar


# --- The desk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role,allowed",
    [
        (roles.CONSULTANT, True),
        (roles.VIP_MANAGER, True),
        (roles.ADMINISTRATOR, True),
        (roles.FRONT_DESK, False),
        (roles.CLIENT_MANAGER, False),
        (roles.MANAGER, False),
        (roles.CLINICIAN, False),
    ],
)
def test_the_inbox_and_a_thread_open_for_the_desk_only(client_for, patient, role, allowed):
    thread = make_thread(patient, photos=[services.photo_clean(jpeg())])
    photo = ConsultPhoto.objects.get()
    staff = client_for(role)
    for url in (
        reverse("online:inbox"),
        reverse("online:thread", args=[thread.pk]),
        reverse("online:photo", args=[thread.pk, photo.pk]),
    ):
        assert staff.get(url).status_code == (200 if allowed else 403), url


def test_a_patient_and_a_stranger_get_no_staff_page(signed_in, client, patient):
    thread = make_thread(patient)
    url = reverse("online:thread", args=[thread.pk])
    assert signed_in.get(url).status_code in (302, 403)
    assert signed_in.get(url).status_code != 200
    assert client.get(url)["Location"].startswith(reverse("login"))


def test_the_desk_sees_the_photo_and_its_read_is_audited(patient):
    from zhongdu.models import AuditEvent

    thread = make_thread(patient, photos=[services.photo_clean(jpeg())])
    photo = ConsultPhoto.objects.get()
    staff = staff_client(consultant())
    shown = staff.get(reverse("online:photo", args=[thread.pk, photo.pk]))
    assert shown.status_code == 200 and shown.content.startswith(b"\xff\xd8")
    assert AuditEvent.objects.filter(
        action="view", object_type="portal.consultthread", object_id=str(thread.pk)
    ).exists()


def test_a_consultant_takes_a_thread_and_assigns_it_to_another(patient):
    first, second = consultant("c1"), consultant("c2")
    desk = UserFactory(username="fd", roles=[roles.FRONT_DESK])
    thread = make_thread(patient)
    staff = staff_client(first)
    assert staff.post(reverse("online:take", args=[thread.pk])).status_code == 302
    thread.refresh_from_db()
    assert thread.assigned_to == first
    staff.post(reverse("online:assign", args=[thread.pk]), {"user": second.pk})
    thread.refresh_from_db()
    assert thread.assigned_to == second
    # Not to someone outside the desk.
    staff.post(reverse("online:assign", args=[thread.pk]), {"user": desk.pk})
    thread.refresh_from_db()
    assert thread.assigned_to == second
    assert ConsultEvent.objects.filter(thread=thread, action="assigned").count() == 2
    mine = staff_client(second).get(reverse("online:inbox") + "?tab=mine")
    assert [row["thread"] for row in mine.context["rows"]] == [thread]


def test_the_first_answer_is_due_in_working_hours_and_late_threads_are_marked(patient):
    WorkingHours.objects.create(weekdays="01234")  # 8:00–17:30, Monday to Friday
    friday_late = datetime.datetime(2026, 11, 27, 17, 0, tzinfo=TZ)
    with mock.patch("django.utils.timezone.now", return_value=friday_late):
        thread = make_thread(patient)
    # Half an hour on Friday, an hour and a half on Monday morning.
    assert thread.first_answer_due_at == datetime.datetime(2026, 11, 30, 9, 30, tzinfo=TZ)
    staff = staff_client(consultant())
    before = datetime.datetime(2026, 11, 30, 9, 29, tzinfo=TZ)
    after = datetime.datetime(2026, 11, 30, 9, 31, tzinfo=TZ)
    with mock.patch("django.utils.timezone.now", return_value=before):
        page = staff.get(reverse("online:inbox"))
    assert page.context["rows"][0]["late"] is False and page.context["figures"]["late"] == 0
    with mock.patch("django.utils.timezone.now", return_value=after):
        page = staff.get(reverse("online:inbox"))
    assert page.context["rows"][0]["late"] is True and page.context["figures"]["late"] == 1
    assert b'data-testid="online-late"' in page.content


def test_a_quick_reply_starts_the_answer_from_a_knowledge_article(patient):
    article = KnowledgeArticle.objects.create(
        title="专家门诊时间", topic="faq", body="皮肤科专家门诊：周一至周五上午。"
    )
    thread = make_thread(patient)
    staff = staff_client(consultant())
    page = staff.get(reverse("online:thread", args=[thread.pk]))
    assert article.title in page.content.decode()
    page = staff.get(reverse("online:thread", args=[thread.pk]) + f"?reply={article.pk}")
    assert page.context["answer"].initial["text"] == article.body
    assert article.body in page.content.decode()


def test_an_answer_tells_the_person_by_an_sms_without_health_content(patient, memory_sms):
    thread = make_thread(patient)
    user = consultant()
    answer = "这种红斑可能是湿疹，建议来院皮肤科面诊。"
    staff = staff_client(user)
    posted = staff.post(
        reverse("online:answer", args=[thread.pk]), {"text": answer, "key": "b" * 32}
    )
    assert posted.status_code == 302
    staff.post(reverse("online:answer", args=[thread.pk]), {"text": answer, "key": "b" * 32})
    thread.refresh_from_db()
    assert thread.status == "answered" and thread.assigned_to == user
    assert thread.first_answered_at is not None and thread.messages.count() == 2
    (message,) = OutboxMessage.objects.filter(client=patient)
    outbox_send(message_id=message.pk)
    (sent,) = sms.outbox
    assert sent.to == patient.phone
    assert "网上咨询的问题已有回复" in sent.body
    for word in ("红斑", "湿疹", "痒", "皮肤", "面诊", QUESTION, answer):
        assert word not in sent.body
    # A second answer before the person looked sends nothing more.
    services.thread_answer(thread=thread, text="补充：请带上用药记录。", by=user)
    assert OutboxMessage.objects.filter(client=patient).count() == 1


def test_no_sms_goes_to_a_person_who_refused_service_sms(patient, memory_sms):
    consent_withdraw(client=patient, purpose=SERVICE_SMS, channel="sms_reply")
    thread = make_thread(patient)
    services.thread_answer(thread=thread, text="请来院面诊。", by=consultant())
    (message,) = OutboxMessage.objects.filter(client=patient)
    outbox_send(message_id=message.pk)
    assert sms.outbox == []
    message.refresh_from_db()
    assert message.status == "suppressed"


def test_turning_a_thread_into_a_booking_opens_the_booking_form_for_its_client(patient):
    thread = make_thread(patient)
    staff = staff_client(consultant())
    answer = staff.post(reverse("online:book", args=[thread.pk]))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("consult:booking_new") + f"?client={patient.pk}"
    assert staff.get(answer["Location"]).status_code == 200
    thread.refresh_from_db()
    assert thread.booking_started_at is not None
    assert ConsultEvent.objects.filter(thread=thread, action="booking").count() == 1


def test_closing_is_recorded_and_a_closed_thread_takes_no_answer(patient):
    thread = make_thread(patient)
    staff = staff_client(consultant())
    staff.post(reverse("online:close", args=[thread.pk]))
    thread.refresh_from_db()
    assert thread.status == "closed" and thread.closed_at is not None
    refused = staff.post(
        reverse("online:answer", args=[thread.pk]), {"text": "…"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 422
    assert "This consultation is closed." in refused.content.decode()
    event = ConsultEvent.objects.get(thread=thread, action="closed")
    assert (event.from_status, event.to_status) == ("open", "closed")


def test_a_closed_thread_cannot_be_reopened_by_set_status(patient):
    thread = make_thread(patient)
    services.thread_close(thread=thread, by=consultant())
    thread.refresh_from_db()
    with pytest.raises(services.ValidationError):
        services.thread_set_status(thread=thread, new_status="open", action="wrote")


# --- Query counts -------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # the menu and badges are cached after the first page
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_inbox_keeps_its_query_count_however_many_threads(patient):
    staff = staff_client(consultant())
    make_thread(patient)
    url = reverse("online:inbox")
    few = _queries(staff, url)
    for n in range(6):
        make_thread(ClientFactory(), text=f"问题 {n}")
    assert _queries(staff, url) == few
    assert few <= 14


def test_the_persons_thread_list_keeps_its_query_count(signed_in, patient):
    make_thread(patient)
    url = reverse("portal:consult_list")
    few = _queries(signed_in, url)
    for n in range(6):
        make_thread(patient, text=f"问题 {n}")
    assert _queries(signed_in, url) == few
    assert few <= 6


def test_a_thread_page_keeps_its_query_count_however_many_photos(signed_in, patient):
    thread = make_thread(patient, photos=[services.photo_clean(jpeg())])
    url = reverse("portal:consult_thread", args=[thread.token])
    few = _queries(signed_in, url)
    services.thread_write(thread=thread, text="再补一张", photos=[services.photo_clean(png())] * 3)
    assert _queries(signed_in, url) == few


def test_each_person_asks_about_their_own_record(client, memory_sms):
    ClientFactory(name="王强", phone="+8613912345678")
    sign_in(client, phone="13912345678")
    assert ask(client).status_code == 302
    assert ConsultThread.objects.get().client.name == "王强"
