"""The price list as a spreadsheet (django-import-export): what administrators import and export.

Columns: code, name, category (its value: registration, exam, treatment, surgery, special_care,
package), department (its name), price (yuan), active, effective_date (YYYY-MM-DD). A row is
found by its code, so importing a file twice updates rather than duplicates. Every value a person
can get wrong raises ValueError with a message, which import-export shows against that row in the
preview, before anything is saved.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from zhongdu.controlchars import cells_checked
from zhongdu.models import Department, PriceItem


class DepartmentByNameWidget(widgets.ForeignKeyWidget):
    def __init__(self):
        super().__init__(Department, field="name")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(str(value).strip() if value is not None else value, row, **kwargs)
        except Department.DoesNotExist:
            raise ValueError(_("No department is named “%(name)s”.") % {"name": value}) from None


class CategoryWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        value = str(value or "").strip()
        if value not in PriceItem.Category.values:
            raise ValueError(
                _("Unknown category “%(value)s”: use one of %(choices)s.")
                % {"value": value, "choices": ", ".join(PriceItem.Category.values)}
            )
        return value


class YuanWidget(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            raise ValueError(_("The price is missing."))
        try:
            price = Decimal(str(value).strip().replace(",", "").lstrip("¥"))
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not a price in yuan.") % {"value": value}) from None
        if not price.is_finite():
            raise ValueError(_("“%(value)s” is not a price in yuan.") % {"value": value})
        if price < 0:
            raise ValueError(_("A price cannot be negative."))
        return price


class PriceItemResource(resources.ModelResource):
    category = fields.Field(attribute="category", column_name="category", widget=CategoryWidget())
    department = fields.Field(
        attribute="department", column_name="department", widget=DepartmentByNameWidget()
    )
    price = fields.Field(attribute="price", column_name="price", widget=YuanWidget())
    # A blank cell means active: the usual case, and what a new row in a spreadsheet looks like.
    active = fields.Field(
        attribute="active", column_name="active", widget=widgets.BooleanWidget(), default=True
    )

    class Meta:
        model = PriceItem
        import_id_fields = ("code",)
        fields = ("code", "name", "category", "department", "price", "active", "effective_date")
        export_order = fields
        # Model validation (lengths, decimal places, a missing date) reported per row too.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        # Before the row's code is looked up: Postgres cannot hold (or even look for) a NUL.
        # The row is shown as invalid in the preview, and nothing of the file is imported.
        _cells, errors = cells_checked(dict(row))
        if errors:
            raise ValidationError(errors)
