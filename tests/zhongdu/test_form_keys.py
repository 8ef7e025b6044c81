"""Every form that creates something carries the one-time key (zhongdu.forms.FormKeyField), and
every model it creates stores that key under a partial unique index: one mechanism, so a double
click or two tabs never make two records. Each form's double click is tested beside its pages
(test_create_once.py, test_register_once.py, test_walk_in_once.py,
tests/clientmgmt/test_merge_result.py)."""

import pytest
from django.db.models import Q, UniqueConstraint

from clientmgmt.forms import ClientForm, ImportUploadForm, MergeForm
from clientmgmt.models import Client, ClientImport, ClientMerge
from complaints.forms import ComplaintForm
from consult.forms import BookingForm, EnquiryForm, PublicBookingRequestForm
from consult.models import Booking, Enquiry
from events.forms import DoorClientForm, EventForm
from events.models import Event
from followup.forms import CallNewForm
from followup.models import CarePlan
from guide.card_forms import CardIssueForm, ExamOrderForm
from guide.charge_forms import ChargeImportUploadForm
from guide.forms import ChargeForm, WalkInClientForm
from guide.models import Charge, ChargeImport, ExamOrder, MembershipCard
from messaging.forms import CampaignForm
from messaging.models import Campaign
from referrals.forms import ReferralForm
from referrals.models import Referral
from surveys.forms import SurveyRoundForm
from surveys.models import SurveyRound
from vip.forms import EnterpriseImportConfirmForm
from vip.models import EnterpriseImport
from zhongdu.forms import FormKeyField

CREATE_FORMS = [
    ClientForm,
    WalkInClientForm,
    DoorClientForm,
    ImportUploadForm,
    MergeForm,
    ReferralForm,
    ComplaintForm,
    BookingForm,
    EnquiryForm,
    PublicBookingRequestForm,
    CallNewForm,
    EventForm,
    SurveyRoundForm,
    ExamOrderForm,
    CardIssueForm,
    ChargeForm,
    ChargeImportUploadForm,
    CampaignForm,
    EnterpriseImportConfirmForm,
]
# The records those forms write, each keyed by `request_key` (complaints and calls keep the key
# as their origin, `source` = "form:<key>", under their own unique index).
KEYED_MODELS = [
    Client,
    ClientImport,
    ClientMerge,
    Referral,
    Booking,
    Enquiry,
    CarePlan,
    Event,
    SurveyRound,
    ExamOrder,
    MembershipCard,
    Charge,
    ChargeImport,
    Campaign,
    EnterpriseImport,
]


@pytest.mark.parametrize("form", CREATE_FORMS, ids=lambda form: form.__name__)
def test_the_form_carries_a_one_time_key(form):
    assert isinstance(form.base_fields["key"], FormKeyField)


@pytest.mark.parametrize("model", KEYED_MODELS, ids=lambda model: model.__name__)
def test_the_record_keeps_its_forms_key_under_a_unique_index(model):
    assert any(
        isinstance(constraint, UniqueConstraint)
        and constraint.fields == ("request_key",)
        and constraint.condition == ~Q(request_key="")
        for constraint in model._meta.constraints
    )
