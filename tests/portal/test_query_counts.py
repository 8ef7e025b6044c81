"""The portal's pages keep fixed query counts: the home page whatever the number of people the
person may see, and the sign-in's two POSTs whoever asks. The home page's count grows by each
card the portal's parts add (portal.home.CARDS), one query each."""

import pytest
from django.db import connection
from django.urls import reverse

from demo.sms_templates import seed_templates
from messaging.services import hospital_placeholder_values
from portal import services
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory

from .conftest import ask_code, enter_code, send_codes

HOME = reverse("portal:home")

# A signed-in page: the session with its two people, the people they may see, the hospital's
# profile (its name in the page's header); then one query per card: the next booking, the
# unread answers of the online consultation, the results released, the data requests.
HOME_QUERIES = 3 + 4
# Asking for a code, in a transaction (savepoint and release): the number's lock (Postgres
# only), the refusal's checks (wrong codes from the number and from the address in the hour, a
# code a moment ago, codes asked for by the number and by the address in the hour), the
# attempt, the client, the code and its hash (9); a client's number also queues the SMS (the
# template, twice, the hospital's profile, the message in its savepoint and its first event: 7).
ASK_QUERIES_NOBODY = 11
ASK_QUERIES = ASK_QUERIES_NOBODY + 7
# Entering the code, in a transaction: the code's row locked, the wrong codes from the number
# and the address, the code used, the attempt; then the client, the session, the audit row.
ENTER_QUERIES = 10


def lock():
    """clientmgmt.services.client_phone_lock: an advisory lock on Postgres, nothing on SQLite."""
    return 1 if connection.vendor == "postgresql" else 0


@pytest.mark.parametrize("dependants", [0, 3])
def test_the_home_page_keeps_its_query_count(
    signed_in, patient, dependants, django_assert_num_queries
):
    staff = UserFactory()
    for _ in range(dependants):
        services.dependant_authorise(
            holder=patient,
            dependant=ClientFactory(),
            relation="child",
            evidence="户口本",
            by=staff,
        )
    with django_assert_num_queries(HOME_QUERIES):
        page = signed_in.get(HOME)
    assert page.status_code == 200
    assert page.content.decode().count("<option value=") == (dependants + 1 if dependants else 0)


def test_asking_for_a_code_keeps_its_query_count(client, patient, django_assert_num_queries):
    seed_templates()  # the sign-in code's template among them, as an administrator sets up
    hospital_placeholder_values()  # the hospital's profile is made on first use: made here
    with django_assert_num_queries(ASK_QUERIES + lock()):
        asked = ask_code(client)
    assert asked.status_code == 302
    with django_assert_num_queries(ASK_QUERIES_NOBODY + lock()):
        asked = ask_code(client, phone="13900001111", REMOTE_ADDR="10.0.0.2")
    assert asked.status_code == 302


def test_entering_the_code_keeps_its_query_count(client, patient, django_assert_num_queries):
    ask_code(client)
    (code,) = send_codes()
    with django_assert_num_queries(ENTER_QUERIES):
        answer = enter_code(client, code)
    assert answer.status_code == 302 and answer["Location"] == HOME
