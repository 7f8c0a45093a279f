from django import forms

from .models import LedgerEntry


class WalletCreditForm(forms.Form):
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
    # One per form shown: submitting the same form twice credits once.
    request_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    note = forms.CharField(
        max_length=500,
        help_text="Required: why the balance changes (e.g. a payment reference). The customer sees it.",
    )
