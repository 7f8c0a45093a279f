from django.conf import settings
from django.db import migrations


def create_wallets(apps, schema_editor):
    """Users made before the wallet existed get an empty one, as every new user does."""
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Wallet = apps.get_model("wallet", "Wallet")
    Wallet.objects.bulk_create(
        [Wallet(user_id=pk) for pk in User.objects.filter(wallet__isnull=True).values_list("pk", flat=True)]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_wallets, migrations.RunPython.noop)]
