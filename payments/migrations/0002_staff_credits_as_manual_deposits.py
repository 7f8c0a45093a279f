"""Staff credits made before payments existed become what they are now: deposits of method "manual"."""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    Deposit = apps.get_model("payments", "Deposit")
    LedgerEntry = apps.get_model("wallet", "LedgerEntry")
    for entry in LedgerEntry.objects.filter(kind="deposit", deposit__isnull=True).order_by("id").iterator():
        deposit = Deposit.objects.create(
            user_id=entry.user_id,
            method="manual",
            status="paid",
            currency=settings.PANEL_CURRENCY,
            amount=entry.amount,
            amount_paid=entry.amount,
            credited=entry.amount,
            gateway_txn_id=f"ledger-{entry.public_id}",
            note=entry.note,
            created_by_id=entry.created_by_id,
            created_at=entry.created_at,
            paid_at=entry.created_at,
        )
        LedgerEntry.objects.filter(pk=entry.pk).update(deposit=deposit)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("wallet", "0005_deposits_bonus_reversal_owed")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
