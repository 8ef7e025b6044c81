import datetime

import factory

from clientmgmt import services
from clientmgmt.models import Client

# Valid resident ID numbers (checksums correct) for tests.
ID_NUMBERS = ["110101199003074514", "11010519491231002X", "440524188001010014"]


class ClientFactory(factory.Factory):
    """Builds clients through the real service, so derived fields (pinyin, search tokens,
    encrypted ID, last four digits) are what production would store."""

    class Meta:
        model = dict

    name = "张伟"
    sex = Client.Sex.MALE
    date_of_birth = datetime.date(1985, 6, 1)
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    id_number = ""
    is_patient = True

    @classmethod
    def _create(cls, model_class, *args, by=None, **kwargs):
        # Each record a test asks for is made, even a duplicate (merge tests need them).
        return services.client_create(data=kwargs, by=by, distinct=True)


def grant(client, purpose, *, by=None, channel="client_page", method="verbal", **kwargs):
    """The client agreed to `purpose` (clientmgmt.consent), recorded as staff would."""
    return services.consent_grant(
        client=client, purpose=purpose, channel=channel, method=method, by=by, **kwargs
    )


def withdraw(client, purpose, *, by=None, channel="client_page", **kwargs):
    """The client withdrew consent to `purpose`."""
    return services.consent_withdraw(
        client=client, purpose=purpose, channel=channel, by=by, **kwargs
    )
