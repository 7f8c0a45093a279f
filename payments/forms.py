from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from reseller.money import currency_places, format_money
from reseller.once import MAX_LENGTH
from reseller.wallet.models import LedgerEntry

from .amounts import NoExchangeRate, deposit_quote
from .methods import MethodInfo


class DepositForm(forms.Form):
    """How much to pay by one method, in its currency (whole VND, cents of USD), within the operator's
    bounds, and enough to be worth something after the fee. `quote` holds the figures once valid."""

    def __init__(self, *args, method: MethodInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.method, self.quote = method, None
        places = currency_places(method.currency)
        field = forms.DecimalField(
            label=_("Amount"), max_digits=20, decimal_places=places, min_value=Decimal(1).scaleb(-places)
        )
        attrs = {"inputmode": "decimal" if places else "numeric", "autocomplete": "off"}
        attrs["step"] = f"{Decimal(1).scaleb(-places):f}"
        if method.min_amount:
            attrs["min"] = f"{method.min_amount.normalize():f}"
        if method.max_amount:
            attrs["max"] = f"{method.max_amount.normalize():f}"
        field.widget.attrs.update(attrs)
        self.fields["amount"] = field

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        low, high, currency = self.method.min_amount, self.method.max_amount, self.method.currency
        if low and amount < low:
            raise forms.ValidationError(_("The minimum is %(min)s.") % {"min": format_money(low, currency)})
        if high and amount > high:
            raise forms.ValidationError(_("The maximum is %(max)s.") % {"max": format_money(high, currency)})
        try:
            self.quote = deposit_quote(config=self.method.config, amount=amount, currency=currency)
        except NoExchangeRate:
            raise forms.ValidationError(_("This method is not available right now.")) from None
        if self.quote.credited <= 0:
            raise forms.ValidationError(_("This amount does not cover the method's fee."))
        return amount


class StaffCreditForm(forms.Form):
    """Staff credit (a manual deposit) or debit (an adjustment) of a customer's balance, in admin."""

    amount = forms.DecimalField(
        max_digits=20,
        decimal_places=5,
        help_text="Positive to credit, negative to debit. A debit cannot take the balance below zero.",
    )
    kind = forms.ChoiceField(
        choices=[
            ("", "Deposit if positive, adjustment if negative"),
            (LedgerEntry.Kind.DEPOSIT, "Deposit"),
            (LedgerEntry.Kind.ADJUSTMENT, "Adjustment"),
        ],
        required=False,
    )
    # The page's one-time token (reseller/once.py), from its address: saved once, however often submitted.
    request_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_LENGTH)
    note = forms.CharField(
        max_length=500,
        help_text="Required: why the balance changes (e.g. a payment reference). The customer sees it.",
    )
