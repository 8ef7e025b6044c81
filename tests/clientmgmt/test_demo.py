import io
from datetime import date

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as Browser
from stdnum.cn import ric

from clientmgmt import services
from clientmgmt.models import Client, ClientEvent
from clientmgmt.search import parse_query
from clientmgmt.selectors import client_search
from demo import bench
from demo import clients as demo
from demo import events as event_demo
from demo import portal as portal_demo
from zhongdu import crypto, roles


@pytest.fixture
def _development(settings):
    # pytest-django runs tests with DEBUG off; demo seeding and the benchmark are for development.
    settings.DEBUG = True


def _found(query, client_id):
    return client_id in {client.pk for client in client_search(parse_query(query))}


def _seed(n):
    out = io.StringIO()
    demo.seed_clients(n, stdout=out)
    return out.getvalue()


def test_generated_id_numbers_are_valid_and_agree_with_birth_date_and_sex():
    rows = list(demo.generate_clients(3000, start=0))
    with_id = [row for row in rows if row["id_number"]]
    assert 0.5 < len(with_id) / len(rows) < 0.7
    for row in with_id:
        number = row["id_number"]
        assert ric.validate(number) == number
        assert ric.get_birth_date(number) == row["date_of_birth"]
        assert int(number[16]) % 2 == (1 if row["sex"] == "male" else 0)
        assert row["id_number_hash"] == crypto.keyed_hash(number)
        assert row["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]


@pytest.mark.parametrize("year", [1936, 1960, 1982, 1983, 1990, 2001, 2025])
@pytest.mark.parametrize("sex", ["female", "male"])
def test_id_numbers_use_a_region_code_that_existed_in_the_year_of_birth(year, sex):
    generator = demo.ClientGenerator(seed=year)
    for _ in range(50):
        number = generator.id_number(date(year, 2, 28), sex)
        assert ric.is_valid(number), number


def test_generated_phones_are_valid_chinese_mobiles_and_unique():
    rows = list(demo.generate_clients(3000, start=0)) + list(
        demo.generate_clients(3000, start=3000, seed=1)
    )
    phones = [row["phone"] for row in rows]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.region_code_for_number(number) == "CN"
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone


@pytest.mark.parametrize("prefix", demo.MOBILE_PREFIXES)
def test_every_mobile_prefix_is_valid_for_every_subscriber_number(prefix):
    for subscriber in ("00000000", "49999999", "99999999"):
        assert phonenumbers.is_valid_number(phonenumbers.parse(f"+86{prefix}{subscriber}"))


@pytest.mark.django_db
def test_generated_clients_hold_what_the_service_would_store():
    row = next(row for row in demo.generate_clients(50, start=0) if row["id_number"])
    data = {name: row[name] for name in demo._FORM_FIELDS}
    client = services.client_create(data=data, by=None)
    for field in ("name_pinyin", "search_terms", "phone", "phone_last4"):
        assert getattr(client, field) == row[field], field
    assert client.id_number_hash == row["id_number_hash"]
    assert client.id_number_masked == row["id_number_masked"]
    demo.encrypt_id_numbers([row])
    assert crypto.decrypt(row["id_number_encrypted"]) == row["id_number"]


@pytest.mark.django_db
def test_seed_clients_writes_searchable_clients_with_their_created_event():
    output = _seed(200)
    assert Client.objects.count() == 200
    assert ClientEvent.objects.filter(kind=ClientEvent.Kind.CREATED).count() == 200
    assert "rows/s" in output
    with_id = Client.objects.exclude(id_number_hash=None)
    assert with_id.count() > 80
    for client in with_id.order_by("?")[:10]:
        assert _found(client.name, client.pk), client.name
        assert _found(client.phone_last4, client.pk)
        assert _found(client.phone, client.pk)
        assert _found(crypto.decrypt(client.id_number_encrypted), client.pk)


@pytest.mark.django_db
def test_seeding_twice_adds_new_clients_without_crashing_on_the_unique_id_number():
    _seed(200)
    _seed(200)
    assert Client.objects.count() == 400
    phones = list(Client.objects.values_list("phone", flat=True))
    assert len(set(phones)) == 400


@pytest.mark.django_db
def test_id_numbers_already_on_file_are_left_out_rather_than_refused():
    _seed(30)
    taken = Client.objects.exclude(id_number_hash=None).first()
    rows = list(demo.generate_clients(20, start=10**6))
    with_id = [row for row in rows if row["id_number"]]
    with_id[0]["id_number_hash"] = taken.id_number_hash
    with_id[2]["id_number_hash"] = with_id[1]["id_number_hash"]
    assert demo.drop_taken_id_numbers(rows) == 2
    assert with_id[0]["id_number_hash"] is None
    assert with_id[0]["id_number_masked"] == ""
    assert with_id[1]["id_number_hash"] is not None
    assert with_id[2]["id_number_hash"] is None


@pytest.mark.django_db
@pytest.mark.usefixtures("_development")
def test_seed_demo_creates_the_demo_clients_once_through_the_service():
    # The demo clients, and the new people met at the demo's past free clinic (registered at
    # the door by the client manager: demo.events), and the patient portal's demo person and her
    # child (demo.portal).
    met = len(event_demo.NEW_PEOPLE)
    portal = portal_demo.PEOPLE
    call_command("seed_demo", password="winter-plum-2026", days=0, stdout=io.StringIO())
    assert Client.objects.count() == demo.DEMO_CLIENTS + met + portal
    created = ClientEvent.objects.filter(kind=ClientEvent.Kind.CREATED)
    assert created.count() == demo.DEMO_CLIENTS + met + portal
    makers = [event.actor.username for event in created.select_related("actor")]
    assert makers.count("frontdesk") == demo.DEMO_CLIENTS + portal
    assert makers.count("clientmgr") == met
    call_command("seed_demo", password="winter-plum-2026", days=0, stdout=io.StringIO())
    assert Client.objects.count() == demo.DEMO_CLIENTS + met + portal


@pytest.mark.django_db
@pytest.mark.usefixtures("_development")
def test_seed_demo_generates_more_clients_on_request_and_prints_the_rate():
    out = io.StringIO()
    call_command("seed_demo", password="winter-plum-2026", days=0, clients=25, stdout=out)
    assert Client.objects.count() == (
        demo.DEMO_CLIENTS + len(event_demo.NEW_PEOPLE) + portal_demo.PEOPLE + 25
    )
    assert "rows/s" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.usefixtures("_development")
def test_seed_demo_dry_run_creates_no_client():
    call_command(
        "seed_demo", password="winter-plum-2026", days=0, dry_run=True, stdout=io.StringIO()
    )
    assert not Client.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("_development")
def test_bench_clients_seeds_what_is_missing_and_prints_its_table():
    out = io.StringIO()
    call_command("bench_clients", clients=40, requests=5, seed=1, stdout=out)
    assert Client.objects.count() == 40
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("page "))
    columns = " ".join(lines[header].split())
    assert columns == "page median ms p95 ms db median ms queries x baseline x floor"
    rows = lines[header + 1 :]
    if connection.vendor == "postgresql":
        # Under the table: whether the data stays in memory.
        assert rows.pop().startswith("database ") and "buffer hit ratio" in out.getvalue()
    labels = [line[:26].strip() for line in rows]
    assert labels == [
        "floor (Django only)",
        "home page (baseline)",
        "search: full phone",
        "search: last 4 digits",
        "search: Chinese name",
        "search: pinyin initials",
        "search: ID number",
        "client page",
    ]
    # The floor is its own yardstick; every row gives its median's ratio to it.
    assert rows[0].endswith("1.0x")
    assert all(row.endswith("x") and row.count("x") == 2 for row in rows)


@pytest.mark.django_db
def test_the_floor_is_django_only_and_signed_in():
    """The floor page answers through Django's session and authentication middleware alone (none
    of the product's headers), runs the product's search and shows no name or number."""
    _seed(1)
    client = Client.objects.get()
    user = bench.bench_user("floor_reader", roles.FRONT_DESK)
    browser = Browser()
    browser.handler = bench.FloorHandler()
    url = bench.floor_urls([client.phone_last4])[0]
    assert browser.get(url).status_code == 403  # not signed in
    browser.force_login(user)
    response = browser.get(url)
    assert response.status_code == 200
    assert f"<td>{client.pk}</td>" in response.content.decode()
    assert client.name not in response.content.decode()
    assert "Content-Security-Policy" not in response.headers  # no product middleware ran
    assert "X-Frame-Options" not in response.headers
    # The product's own URLs are not there.
    assert browser.get("/clients/").status_code == 404


@pytest.mark.django_db
def test_bench_clients_refuses_to_fill_a_production_database(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("bench_clients", clients=5, requests=1, stdout=io.StringIO())
    assert not Client.objects.exists()
