import sys

from django.core.management.base import BaseCommand

from reseller.money import format_money_exact
from reseller.wallet.selectors import ledger_check


class Command(BaseCommand):
    help = (
        "Checks that every balance equals the sum of its ledger and that no order was refunded more than it "
        "was charged. Exits 1 and lists the offenders if not."
    )

    def handle(self, *args, **options):
        report = ledger_check()
        for username, balance, ledger_sum in report.mismatched_balances:
            self.stdout.write(
                f"MISMATCH {username}: balance {format_money_exact(balance)} "
                f"but ledger sums to {format_money_exact(ledger_sum)}"
            )
        for order_id, charged, refunded in report.over_refunded_orders:
            self.stdout.write(
                f"OVER-REFUNDED order {order_id}: charged {format_money_exact(charged)}, "
                f"refunded {format_money_exact(refunded)}"
            )
        for entry_id in report.broken_chain_entries:
            self.stdout.write(f"BROKEN ledger entry {entry_id}: its balance after is not the sum up to it")
        for order_id in report.misdirected_orders:
            self.stdout.write(f"MISDIRECTED order {order_id}: a charge or refund belongs to another customer")
        for entry_id in report.mismatched_deposit_entries:
            self.stdout.write(
                f"MISMATCHED deposit entry {entry_id}: not what its deposit credited, or not its owner"
            )
        summary = (
            f"Checked {report.wallets} wallets and {report.entries} ledger entries: "
            f"{len(report.mismatched_balances)} balance mismatches, "
            f"{len(report.over_refunded_orders)} over-refunded orders, "
            f"{len(report.misdirected_orders)} misdirected orders, "
            f"{len(report.broken_chain_entries)} broken ledger rows, "
            f"{len(report.mismatched_deposit_entries)} mismatched deposit rows."
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"{summary} The ledger is consistent."))
            return
        self.stderr.write(self.style.ERROR(summary))
        sys.exit(1)
