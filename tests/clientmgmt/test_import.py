import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from clientmgmt import tasks
from clientmgmt.models import Client, ClientEvent, ClientImport, ClientImportRow
from tests.clientmgmt.factories import ID_NUMBERS, ClientFactory
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

UPLOAD = reverse("clientmgmt:import_upload")
CSV = (
    "姓名,性别,出生日期,手机,身份证号,备注\n"
    "李娜,女,1990-03-07,13912345678,,老客户\n"  # row 2: fine
    "王芳,女,,12345,,\n"  # row 3: bad phone
    "赵敏,男,1985-06-01,13800001111,,\n"  # row 4: same phone as an existing client
    ",,,,,\n"  # blank: ignored
    f"陈静,女,,,{ID_NUMBERS[0]},\n"  # row 6: fine, ID only
)


def _upload(client, content=CSV, name="clients.csv", encoding="utf-8"):
    data = content.encode(encoding) if isinstance(content, str) else content
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT_LANGUAGE="en")


def _run(client, job, django_capture_on_commit_callbacks, **actions):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("clientmgmt:import_start", args=[job.token]), actions)
    assert len(callbacks) == 1  # the job is queued once the start commits
    tasks.client_import_run.apply(args=[job.pk])  # the real task code, as a worker runs it
    job.refresh_from_db()
    return job


def test_the_preview_shows_each_rows_errors_and_duplicates_and_saves_no_client(
    client_manager_client,
):
    existing = ClientFactory(name="赵敏", phone="13800001111")
    response = _upload(client_manager_client)
    job = ClientImport.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.total_rows == 4 and job.status == "preview"
    assert Client.objects.count() == 1
    page = client_manager_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "Enter a valid phone number" in body
    assert f"#{existing.pk}" in body
    assert "138****1111" in body and "13800001111" not in body
    rows = {row.row_number: row for row in job.rows.all()}
    assert rows[3].errors and rows[4].duplicate_ids == [existing.pk]
    assert ID_NUMBERS[0] not in rows[6].data_encrypted


def test_the_import_runs_every_row_on_its_own_and_reports_each_outcome(
    client_manager_client, django_capture_on_commit_callbacks
):
    existing = ClientFactory(name="赵敏", phone="13800001111", date_of_birth=None)
    _upload(client_manager_client)
    job = ClientImport.objects.get()
    row4 = job.rows.get(row_number=4)
    job = _run(
        client_manager_client,
        job,
        django_capture_on_commit_callbacks,
        **{f"action_{row4.pk}": "merge"},
    )
    assert job.status == "done" and job.processed_rows == 4
    outcomes = dict(job.rows.values_list("row_number", "outcome"))
    # Row 5 was blank and is not a row at all.
    assert outcomes == {2: "created", 3: "failed", 4: "merged", 6: "created"}
    existing.refresh_from_db()
    assert str(existing.date_of_birth) == "1985-06-01"  # a blank filled by the merge
    created = Client.objects.get(name="李娜")
    assert created.events.get().kind == ClientEvent.Kind.IMPORTED
    assert created.phone == "+8613912345678" and created.notes == "老客户"
    assert not job.rows.exclude(data_encrypted="").exists()  # the uploaded data is gone
    page = client_manager_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.content.decode().count('<tr class="outcome-') == 4


def test_skipping_a_duplicate_leaves_the_existing_record_alone(
    client_manager_client, django_capture_on_commit_callbacks
):
    existing = ClientFactory(name="赵敏", phone="13800001111", date_of_birth=None)
    _upload(client_manager_client)
    job = _run(
        client_manager_client, ClientImport.objects.get(), django_capture_on_commit_callbacks
    )
    existing.refresh_from_db()
    assert existing.date_of_birth is None
    assert job.rows.get(row_number=4).outcome == ClientImportRow.Outcome.SKIPPED


def test_a_row_that_fails_while_importing_does_not_stop_the_others(
    client_manager_client, django_capture_on_commit_callbacks
):
    _upload(client_manager_client)
    job = ClientImport.objects.get()
    # Someone registers the ID card of row 6 between the preview and the import.
    ClientFactory(name="陈静", id_number=ID_NUMBERS[0], date_of_birth=None, phone="13000000000")
    job = _run(client_manager_client, job, django_capture_on_commit_callbacks)
    failed = job.rows.get(row_number=6)
    # Written by the worker, in the hospital's language.
    assert failed.outcome == "failed" and "已存在" in failed.message
    assert job.rows.get(row_number=2).outcome == "created"
    assert Client.objects.filter(name="陈静").count() == 1


def test_running_the_job_twice_imports_nothing_twice(
    client_manager_client, django_capture_on_commit_callbacks
):
    _upload(client_manager_client)
    job = _run(
        client_manager_client, ClientImport.objects.get(), django_capture_on_commit_callbacks
    )
    count = Client.objects.count()
    tasks.client_import_run.apply(args=[job.pk])
    assert Client.objects.count() == count


def test_starting_twice_is_refused(client_manager_client, django_capture_on_commit_callbacks):
    _upload(client_manager_client)
    job = _run(
        client_manager_client, ClientImport.objects.get(), django_capture_on_commit_callbacks
    )
    response = client_manager_client.post(
        reverse("clientmgmt:import_start", args=[job.token]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "already been started" in response.content.decode()


def test_the_progress_fragment_polls_until_done(client_manager_client):
    _upload(client_manager_client)
    job = ClientImport.objects.get()
    ClientImport.objects.filter(pk=job.pk).update(status="running", processed_rows=2)
    response = client_manager_client.get(reverse("clientmgmt:import_progress", args=[job.token]))
    body = response.content.decode()
    assert 'value="2"' in body and 'max="4"' in body and 'hx-trigger="every 1s"' in body
    ClientImport.objects.filter(pk=job.pk).update(status="done", processed_rows=4)
    response = client_manager_client.get(reverse("clientmgmt:import_progress", args=[job.token]))
    assert response["HX-Refresh"] == "true"


def test_gbk_csv_and_excel_files_are_read(client_manager_client):
    _upload(client_manager_client, CSV, encoding="gbk")
    assert ClientImport.objects.get().rows.get(row_number=2).display["name"] == "李娜"
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机", "出生日期"])
    sheet.append(["刘洋", 13912340000, "1988/02/03"])  # Excel keeps phones as numbers
    buffer = io.BytesIO()
    book.save(buffer)
    _upload(client_manager_client, buffer.getvalue(), name="clients.xlsx")
    row = ClientImport.objects.latest("pk").rows.get()
    assert row.errors == [] and row.display["phone"] == "139****0000"


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("clients.pdf", b"%PDF", "Upload a .csv or .xlsx file."),
        ("clients.csv", "手机\n139\n", "including 姓名 (name)"),
        ("clients.csv", "姓名,手机\n", "no rows below its header"),
        ("clients.xlsx", b"not really excel", "cannot be read"),
        # A field longer than csv's limit (131,072 characters).
        ("clients.csv", "姓名,备注\n李娜," + "长" * 140_000 + "\n", "This CSV file cannot be read"),
    ],
)
def test_an_unreadable_file_is_explained(client_manager_client, name, content, message):
    response = _upload(client_manager_client, content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClientImport.objects.exists()


def test_the_upload_is_audited(client_manager_client):
    _upload(client_manager_client)
    assert AuditEvent.objects.filter(
        action="create", object_type="clientmgmt.clientimport"
    ).exists()


def test_the_front_desk_cannot_import(front_desk_client):
    assert front_desk_client.get(UPLOAD).status_code == 403


def test_a_worker_killed_mid_row_leaves_nothing_for_the_retry_to_write_twice(
    client_manager_client, django_capture_on_commit_callbacks, monkeypatch
):
    from clientmgmt import services

    _upload(client_manager_client)
    job = ClientImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        client_manager_client.post(reverse("clientmgmt:import_start", args=[job.token]))
    finish = services._finish_import_row

    def killed(job, row):
        # The worker dies after writing the row's client, before recording the row's outcome.
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "_finish_import_row", killed)
    with pytest.raises(SystemExit):
        services.client_import_run(job_id=job.pk)
    monkeypatch.setattr(services, "_finish_import_row", finish)
    tasks.client_import_run.apply(args=[job.pk])  # the broker redelivers the job
    assert Client.objects.filter(name="李娜").count() == 1
    assert Client.objects.filter(name="陈静").count() == 1
    job.refresh_from_db()
    assert job.rows.get(row_number=2).outcome == "created"
