"""A patient signed in to the portal is a stranger to every staff page: each URL of the access
table that is not public answers the staff sign-in or 403, never the page."""

import pytest
from django.urls import reverse

from tests.zhongdu.test_access import URLS
from zhongdu import roles


@pytest.mark.django_db
def test_a_signed_in_patient_opens_no_staff_page(signed_in):
    assert signed_in.get(reverse("portal:home")).status_code == 200
    staff_login = reverse("login")
    opened = []
    walked = 0
    for name, url in URLS:
        rule = roles.access_rule(name)
        if rule in (roles.PUBLIC, roles.PATIENT):
            continue
        walked += 1
        answer = signed_in.get(url)
        refused = answer.status_code == 403 or (
            answer.status_code == 302 and answer["Location"].startswith(staff_login)
        )
        if not refused:
            opened.append(f"{name}: {answer.status_code}")
    assert walked > 100
    assert opened == []
    # And the portal still knows them: the walk did not sign them out.
    assert signed_in.get(reverse("portal:home")).status_code == 200
