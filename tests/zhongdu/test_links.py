"""zhongdu.links.row_link: a row's address as reverse() gives it, the pattern reversed once."""

import pytest
from django.urls import reverse

from zhongdu.links import row_link


@pytest.mark.parametrize(
    "view_name",
    ["clientmgmt:client_detail", "consult:booking_detail", "guide:visit_detail"],
)
@pytest.mark.parametrize("pk", [1, 42, 999999999999])
def test_the_same_address_as_reverse(view_name, pk):
    assert row_link(view_name)(pk) == reverse(view_name, args=[pk])


def test_only_an_id_goes_in():
    link = row_link("clientmgmt:client_detail")
    with pytest.raises(ValueError):
        link("1/../../admin")


def test_a_page_without_a_row_id_is_refused():
    with pytest.raises(ValueError, match="row id"):
        row_link("home")
