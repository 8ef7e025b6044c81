"""Writes of the results: recording a value (entered or imported), correcting it, releasing an
order's results. Each is one transaction, audited.

Other parts follow a release without this module knowing them: a function registered with
register_release_hook(fn) is called as fn(order=, by=, corrected=) inside the transaction of a
release (corrected=False) and of every correction after it (corrected=True), so abnormal values
open their follow-up in the same commit as the release that showed them (exams.alerts)."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guide.models import ExamOrder, ExamOrderItem
from zhongdu import audit, private_files

from . import flags
from .models import ExamResult, ExamResultRevision, ResultDefinition, ResultRelease

# The largest number a result holds (ExamResult.value_number: 12 digits, 4 after the point).
MAX_NUMBER = Decimal("99999999.9999")
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = {"image/jpeg", "image/png", "application/pdf"}

_RELEASE_HOOKS: list[Callable] = []


def register_release_hook(hook: Callable) -> None:
    if hook not in _RELEASE_HOOKS:
        _RELEASE_HOOKS.append(hook)


class NotAllowed(ValidationError):
    """The order cannot take this change now (cancelled, already released ...): a 409."""


def parse_number(text: str, definition: ResultDefinition) -> Decimal:
    """A typed or imported number ("5.2", "５．２", " 12 "), or a ValidationError saying why not."""
    cleaned = (
        (text or "").strip().translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-"))
    )
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(_("Enter a number.")) from None
    if not value.is_finite() or abs(value) > MAX_NUMBER:
        raise ValidationError(_("Enter a number the laboratory could have measured."))
    return value.quantize(Decimal("0.0001"))


def _client_facts(order: ExamOrder) -> tuple[str, int | None]:
    client = order.client
    sex = client.sex if client.sex in ("female", "male") else ""
    return sex, client.age_on(timezone.localdate(order.ordered_at))


def _checked_value(definition, *, number, text, file) -> tuple[Decimal | None, str]:
    kind = definition.kind
    if kind == ResultDefinition.Kind.NUMBER:
        if number is None:
            raise ValidationError(_("Enter the value."))
        return number, ""
    if kind == ResultDefinition.Kind.CHOICE:
        answers = [choice["value"] for choice in definition.choices]
        if text not in answers:
            raise ValidationError(
                _("Choose one of: %(answers)s.") % {"answers": "、".join(answers)}
            )
        return None, text
    if kind == ResultDefinition.Kind.TEXT:
        text = (text or "").strip()
        if not text:
            raise ValidationError(_("Write the result."))
        if len(text) > 500:
            raise ValidationError(_("Keep the result under 500 characters."))
        return None, text
    if file is None:
        raise ValidationError(_("Attach the report file."))
    return None, (text or "").strip()[:500]


def _store_file(file) -> tuple[str, str, str]:
    """(private name, label, type) of an uploaded report: (label, content type, bytes)."""
    label, content_type, data = file
    if content_type not in FILE_TYPES:
        raise ValidationError(_("Attach a JPEG or PNG image or a PDF."))
    if not data or len(data) > MAX_FILE_BYTES:
        raise ValidationError(_("A report file is at most 10 MB."))
    return private_files.save("exam-results", data), (label or "")[:120], content_type


def result_record(
    *,
    item: ExamOrderItem,
    by,
    number: Decimal | None = None,
    text: str = "",
    file: tuple[str, str, bytes] | None = None,
    reason: str = "",
    source: str = ExamResult.Source.ENTERED,
    request=None,
    expected_revision: int | None = None,
) -> ExamResult:
    """Record the value of one examination of an order: a number, an answer, a text or a
    report file ((name, content type, bytes)). The flag and its rule are read from the item's
    definition for the client's sex and age on the day of the order. Once the order's results
    are released a value may still be corrected, with a reason; the earlier value stays in the
    history. Recording a value ticks the examination off.

    expected_revision: the revision the form was showing (0: no value yet). When another value
    was recorded since, the same value again is a double click or a second tab (the result in
    force is returned, nothing is written); another value is refused (NotAllowed), so nobody
    overwrites a value they have not seen."""
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        order = ExamOrder.objects.select_for_update().select_related("client").get(pk=item.order_id)
        if order.status == ExamOrder.Status.CANCELLED:
            raise NotAllowed(_("The order was cancelled: it takes no results."))
        definition = (
            ResultDefinition.objects.filter(exam_id=item.price_item_id)
            .prefetch_related("ranges")
            .first()
        )
        if definition is None:
            raise ValidationError(_("This examination yields no result to record."))
        released = ResultRelease.objects.filter(order=order).exists()
        if released and not reason:
            raise ValidationError(_("The results are released: say why this value is corrected."))
        number, text = _checked_value(definition, number=number, text=text, file=file)
        result = ExamResult.objects.select_for_update().filter(item=item).first()
        if expected_revision is not None and expected_revision != (
            result.revision if result else 0
        ):
            if result is not None and value_unchanged(result, number=number, text=text, file=file):
                return result
            raise NotAllowed(
                _("Someone recorded this result meanwhile: look at the value in force first.")
            )
        sex, age = _client_facts(order)
        judgement = flags.judge(definition, number=number, text=text, sex=sex, age=age)
        stored = _store_file(file) if file is not None else None
        if result is None:
            result = ExamResult(item=item, order=order, revision=0)
        elif stored is None and definition.kind == ResultDefinition.Kind.FILE:
            stored = (result.file, result.file_label, result.file_type)
        result.value_number = number
        result.value_text = text
        result.file, result.file_label, result.file_type = stored or ("", "", "")
        result.flag = judgement.flag
        result.rule = judgement.rule[:160]
        result.source = source
        result.revision += 1
        result.recorded_by = by
        result.recorded_at = timezone.now()
        result.save()
        ExamResultRevision.objects.create(
            result=result,
            revision=result.revision,
            value_number=result.value_number,
            value_text=result.value_text,
            file=result.file,
            file_label=result.file_label,
            flag=result.flag,
            rule=result.rule,
            source=source,
            reason=reason,
            after_release=released,
            recorded_by=by,
            recorded_at=result.recorded_at,
        )
        if item.done_at is None:
            ExamOrderItem.objects.filter(pk=item.pk, done_at__isnull=True).update(
                done_at=result.recorded_at, done_by=by
            )
        audit.record(
            audit.Action.UPDATE if result.revision > 1 else audit.Action.CREATE,
            actor=by,
            obj=result,
            fields=["value", "flag"],
            reason=reason,
            request=request,
        )
        if released:
            for hook in _RELEASE_HOOKS:
                hook(order=order, by=by, corrected=True)
    return result


def value_unchanged(result: ExamResult, *, number=None, text="", file=None) -> bool:
    """Whether recording this value again would change nothing (the same number or answer, and
    for a report the same file's bytes)."""
    if result.value_number != number or result.value_text != (text or ""):
        return False
    if file is None:
        return True
    _label, content_type, data = file
    if not result.file or result.file_type != content_type:
        return False
    try:
        return private_files.read(result.file) == data
    except FileNotFoundError:
        return False


def results_missing(order: ExamOrder) -> list[ExamOrderItem]:
    """The order's examinations that yield a result and have none yet."""
    return list(
        order.items.filter(price_item__result_definition__isnull=False, result__isnull=True)
        .select_related("price_item")
        .order_by("pk")
    )


def results_release(*, order: ExamOrder, by, request=None) -> ResultRelease:
    """A clinician's release of the order's results, once every examination that yields a
    result has one. Released once: a second release (a double click, two tabs) is refused."""
    with transaction.atomic():
        locked = ExamOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status == ExamOrder.Status.CANCELLED:
            raise NotAllowed(_("The order was cancelled: there is nothing to release."))
        if ResultRelease.objects.filter(order=locked).exists():
            raise NotAllowed(_("These results were already released."))
        if not locked.results.exists():
            raise ValidationError(_("No result is recorded yet."))
        missing = results_missing(locked)
        if missing:
            raise ValidationError(
                _("Record every result before releasing them; missing: %(items)s.")
                % {"items": "、".join(item.price_item.name for item in missing)}
            )
        try:
            with transaction.atomic():
                release = ResultRelease.objects.create(
                    order=locked, released_by=by, released_at=timezone.now()
                )
        except IntegrityError:
            raise NotAllowed(_("These results were already released.")) from None
        audit.record(
            audit.Action.UPDATE, actor=by, obj=locked, fields=["results released"], request=request
        )
        for hook in _RELEASE_HOOKS:
            hook(order=locked, by=by, corrected=False)
    return release
