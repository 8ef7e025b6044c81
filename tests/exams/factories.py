"""Exam items that yield results, orders with them, recorded and released through the real
services."""

from decimal import Decimal

from clientmgmt.models import Client
from exams import services
from exams.models import Finding, ReferenceRange, ResultDefinition
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from tests.guide.factories import exam_order, price
from zhongdu import roles
from zhongdu.models import PriceItem

NEGATIVE_POSITIVE = [{"value": "阴性", "flag": "normal"}, {"value": "阳性", "flag": "abnormal"}]


def finding(code="fungal", name="真菌感染", **kwargs):
    return Finding.objects.get_or_create(code=code, defaults={"name": name, **kwargs})[0]


def exam_item(code, name="", amount="50.00"):
    return price(code, amount, category=PriceItem.Category.EXAM, name=name or code)


def number_definition(
    code="JC101",
    *,
    unit="×10⁹/L",
    low="3.5",
    high="9.5",
    critical_low="2.0",
    critical_high="30.0",
    finding=None,
    decimals=1,
):
    """A number with one range for everyone (add sex and age ranges with add_range)."""
    definition = ResultDefinition.objects.create(
        exam=exam_item(code, name="白细胞计数"),
        kind=ResultDefinition.Kind.NUMBER,
        unit=unit,
        decimals=decimals,
        finding=finding,
    )
    add_range(
        definition, low=low, high=high, critical_low=critical_low, critical_high=critical_high
    )
    return definition


def add_range(definition, *, sex="", age_from=0, age_to=None, **limits):
    values = {key: Decimal(value) if value is not None else None for key, value in limits.items()}
    return ReferenceRange.objects.create(
        definition=definition, sex=sex, age_from=age_from, age_to=age_to, **values
    )


def choice_definition(code="JC102", *, choices=None, finding=None):
    return ResultDefinition.objects.create(
        exam=exam_item(code, name="真菌镜检"),
        kind=ResultDefinition.Kind.CHOICE,
        choices=choices or NEGATIVE_POSITIVE,
        finding=finding,
    )


def text_definition(code="JC103"):
    return ResultDefinition.objects.create(
        exam=exam_item(code, name="皮肤科医生意见"), kind=ResultDefinition.Kind.TEXT
    )


def file_definition(code="JC104"):
    return ResultDefinition.objects.create(
        exam=exam_item(code, name="皮肤镜检查"), kind=ResultDefinition.Kind.FILE
    )


def order_with(*definitions, client=None, by=None):
    """An exam order of single examinations, one per definition."""
    client = client or ClientFactory(sex=Client.Sex.FEMALE)
    return exam_order(client=client, items=[d.exam for d in definitions], by=by)


def item_of(order, definition):
    return order.items.get(price_item=definition.exam)


def clinician():
    return UserFactory(roles=[roles.CLINICIAN])


def record(order, definition, *, by=None, **value):
    """Record a value: number="5.2" (parsed as typed), text="阳性", file=(name, type, bytes)."""
    if "number" in value and not isinstance(value["number"], Decimal):
        value["number"] = services.parse_number(value["number"], definition)
    return services.result_record(item=item_of(order, definition), by=by or clinician(), **value)


def release(order, *, by=None):
    return services.results_release(order=order, by=by or clinician())
