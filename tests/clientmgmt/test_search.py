import pytest
from django.urls import reverse

from clientmgmt import services
from clientmgmt.search import build_search_terms, parse_query
from clientmgmt.selectors import client_search
from tests.clientmgmt.factories import ID_NUMBERS, ClientFactory
from zhongdu import roles

pytestmark = pytest.mark.django_db


def _names(query):
    return [client.name for client in client_search(parse_query(query))]


def test_search_tokens_hold_substrings_pinyin_and_initials():
    pinyin, terms = build_search_terms("张伟")
    assert pinyin == "zhangwei"
    assert set(terms.split()) == {"张", "伟", "张伟", "zhangwei", "wei", "zw", "w"}


@pytest.mark.parametrize(
    "query,kind",
    [
        ("1234", "last4"),
        ("138 1234 5678", "phone"),
        ("+86 138-1234-5678", "phone"),
        ("110101199003074514", "id_number"),
        ("11010519491231002x", "id_number"),
        ("zw", "name"),
        ("张伟", "name"),
        ("", "empty"),
        ("%_'", "empty"),
    ],
)
def test_the_query_says_what_was_typed(query, kind):
    assert parse_query(query).kind == kind


def test_it_finds_a_client_by_chinese_name_substring_pinyin_and_initials():
    ClientFactory(name="张伟")
    ClientFactory(name="王芳")
    for query in ("张伟", "伟", "张", "zhangwei", "zhang", "zw", "wei", "ZW"):
        assert _names(query) == ["张伟"], query
    assert _names("wf") == ["王芳"]


def test_two_letters_match_whole_initials_three_match_their_start():
    ClientFactory(name="张伟")
    ClientFactory(name="张伟华")
    assert _names("zw") == ["张伟"]  # not every name starting with zw…
    assert _names("zwh") == ["张伟华"]
    assert sorted(_names("zhangw")) == ["张伟", "张伟华"]


def test_it_finds_a_client_by_full_phone_in_any_format_and_by_its_last_four_digits():
    ClientFactory(name="李娜", phone="13912345678")
    ClientFactory(name="刘洋", phone="13800005678")
    assert _names("139 1234 5678") == ["李娜"]
    assert _names("+8613912345678") == ["李娜"]
    assert sorted(_names("5678")) == ["刘洋", "李娜"]


def test_it_finds_a_client_by_id_number_without_storing_it_in_plain_text():
    client = ClientFactory(name="赵敏", id_number=ID_NUMBERS[0], date_of_birth=None)
    assert _names(ID_NUMBERS[0]) == ["赵敏"]
    assert ID_NUMBERS[0] not in client.id_number_encrypted
    assert ID_NUMBERS[0] not in (client.id_number_hash or "")
    assert client.id_number_masked == "110***********4514"


def test_exact_name_matches_come_first():
    ClientFactory(name="张伟强")
    ClientFactory(name="张伟")
    assert _names("张伟")[0] == "张伟"


def test_merged_records_are_not_found(role_user):
    survivor, merged = ClientFactory(name="陈静"), ClientFactory(name="陈静")
    assert len(_names("陈静")) == 2
    services.client_merge(survivor=survivor, merged=merged, by=role_user(roles.CLIENT_MANAGER))
    assert [client.pk for client in client_search(parse_query("陈静"))] == [survivor.pk]


def test_the_search_page_shows_masked_numbers(front_desk_client):
    ClientFactory(name="李娜", phone="13912345678", id_number=ID_NUMBERS[0], date_of_birth=None)
    body = front_desk_client.get(reverse("clientmgmt:client_list"), {"q": "5678"}).content.decode()
    assert "李娜" in body
    assert "139****5678" in body
    assert "13912345678" not in body
    assert ID_NUMBERS[0] not in body and "110***********4514" in body


def test_an_htmx_search_returns_only_the_results(front_desk_client):
    ClientFactory(name="李娜")
    response = front_desk_client.get(
        reverse("clientmgmt:client_list"), {"q": "ln"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "李娜" in body and "<html" not in body


def test_no_match_offers_to_register(front_desk_client):
    response = front_desk_client.get(
        reverse("clientmgmt:client_list"), {"q": "nobody"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    body = response.content.decode()
    assert "No client matches." in body
    assert reverse("clientmgmt:client_create") in body


def test_the_search_page_runs_a_fixed_number_of_queries(
    front_desk_client, django_assert_max_num_queries
):
    for n in range(30):
        ClientFactory(name=f"张伟{n}", phone=f"1380000{n:04d}")
    front_desk_client.get(reverse("clientmgmt:client_list"))
    # Session, user, roles (with the user's own permissions: zhongdu.roles.user_memberships; their
    # groups' permissions, for the export and merge links, and the user menu's count of unread
    # notifications are kept since the first page), the clients: the same for 20 results as for 3.
    with django_assert_max_num_queries(4):
        response = front_desk_client.get(reverse("clientmgmt:client_list"), {"q": "zhang"})
    assert len(response.context["clients"]) == 20  # the first SEARCH_LIMIT
