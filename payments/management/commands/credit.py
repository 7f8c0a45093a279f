from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from payments.manual import staff_credit
from reseller.money import format_money_exact, quantize_amount
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import WalletError


class Command(BaseCommand):
    help = (
        "Credits a customer's balance as a manual deposit (or, with a negative amount, debits it as an "
        "adjustment) and writes a ledger row."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", help="In the panel currency; negative to debit, e.g. -- -5.00")
        parser.add_argument("--note", required=True, help="Why the balance changes (kept in the ledger).")
        parser.add_argument(
            "--kind",
            choices=[LedgerEntry.Kind.DEPOSIT, LedgerEntry.Kind.ADJUSTMENT],
            help="Default: deposit for a credit, adjustment for a debit.",
        )

    def handle(self, *args, username, amount, note, kind=None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            amount = quantize_amount(amount)
        except (TypeError, ValueError) as error:
            raise CommandError(str(error)) from None
        try:
            entry = staff_credit(user=user, amount=amount, kind=kind, note=note, created_by=None)
        except WalletError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{entry.get_kind_display()} of {format_money_exact(entry.amount)} for {user.username}; "
            f"balance now {format_money_exact(entry.balance_after)}."
        )
