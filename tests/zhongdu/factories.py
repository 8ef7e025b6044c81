"""Factories for the hospital directory."""

from datetime import time
from decimal import Decimal

import factory
from django.utils import timezone

from zhongdu.models import (
    Channel,
    ClinicSession,
    Department,
    Expert,
    KnowledgeArticle,
    PriceItem,
    SessionTemplate,
)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"科室{n}")
    floor = "2F"
    phone_extension = factory.Sequence(lambda n: f"8{n:03d}")


class ExpertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expert
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"医生{n}")
    title = "主任医师"

    @factory.post_generation
    def departments(self, create, extracted, **kwargs):
        if create:
            self.departments.set(extracted if extracted is not None else [DepartmentFactory()])


class SessionTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionTemplate

    expert = factory.SubFactory(ExpertFactory)
    department = factory.LazyAttribute(lambda o: o.expert.departments.first())
    weekday = 0
    start_time = time(8, 30)
    end_time = time(11, 30)
    capacity = 20


class ClinicSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicSession

    expert = factory.SubFactory(ExpertFactory)
    department = factory.LazyAttribute(lambda o: o.expert.departments.first())
    date = factory.LazyFunction(timezone.localdate)
    start_time = time(8, 30)
    end_time = time(11, 30)
    capacity = 20


class PriceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceItem
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"项目{n}")
    category = PriceItem.Category.TREATMENT
    department = factory.SubFactory(DepartmentFactory)
    price = Decimal("100.00")
    effective_date = factory.LazyFunction(timezone.localdate)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"渠道{n}")
    kind = Channel.Kind.OTHER


class KnowledgeArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnowledgeArticle

    title = factory.Sequence(lambda n: f"文章{n}")
    topic = KnowledgeArticle.Topic.FAQ
    body = "正文"
