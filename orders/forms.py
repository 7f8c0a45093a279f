from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Service
from reseller.params import whole_number

from .selectors import sellable_categories, sellable_services


class OrderForm(forms.Form):
    """The service chosen on the order form; its type's fields are checked by placement.order_validate
    (orders/placement.py), which the API and admin share."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, empty_label=_("All categories")
    )
    service = forms.ModelChoiceField(queryset=Service.objects.none(), empty_label=_("Choose a service"))
    # One per form shown: a second submission of the same form returns the first order, never a second.
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = sellable_categories()
        category = self.data.get("category") if self.is_bound else self.initial.get("category")
        category_id = whole_number(category)
        self.fields["service"].queryset = sellable_services(category_id=category_id)
        self.fields["service"].error_messages["invalid_choice"] = _("This service is not available.")
