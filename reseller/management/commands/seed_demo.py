from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from catalog.models import Provider
from orders.stats import service_completion_refresh
from payments.manual import deposit_manual
from payments.models import ExchangeRate
from reseller.wallet.models import LedgerEntry
from support.models import CannedReply

# What 1 VND is worth in the demo's panel currency, so VietQR and bank transfers can be tried (an operator
# sets the real one in admin).
DEMO_VND_RATES = {"USD": Decimal("0.00004"), "EUR": Decimal("0.000037")}

# The canned replies a new panel starts with; staff edit them in admin (Support > Canned replies).
DEMO_CANNED_REPLIES = {
    "Refill requested": "We have asked the provider to refill your order. Refills usually start within "
    "24 hours; the order page shows its progress.",
    "Speed-up asked": "We have asked the provider to speed up your order. Delivery speed depends on the "
    "service; we will write here if anything changes.",
    "Payment received": "Your payment has been received and credited to your balance. Thank you!",
    "Cancel requested": "We have asked the provider to cancel your order. What was not delivered is "
    "refunded to your balance as soon as the provider confirms.",
}


def demo_deposit() -> Decimal:
    """100 in the panel currency, or a million in one without minor units, where 100 buys nothing."""
    return Decimal(1_000_000) if settings.PANEL_CURRENCY in settings.ZERO_DECIMAL_CURRENCIES else Decimal(100)


class Command(BaseCommand):
    help = (
        "Creates the demo data idempotently: an admin, a demo customer with a funded balance, "
        "the simulator as a provider, a VND exchange rate for the demo's VietQR and bank transfers, and "
        "canned replies for support tickets."
    )

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", default="admin")
        parser.add_argument("--demo-password", default="demo")
        parser.add_argument("--simulator-url", default="http://127.0.0.1:8001/api/v2")
        parser.add_argument("--simulator-key", default="demo-simulator-key")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args, **options):
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
        )
        if created:
            admin.set_password(options["admin_password"])
            admin.save()
        demo, created = User.objects.get_or_create(username="demo", defaults={"email": "demo@example.com"})
        if created:
            demo.set_password(options["demo_password"])
            demo.save()
        if not LedgerEntry.objects.filter(user=demo, kind=LedgerEntry.Kind.DEPOSIT).exists():
            deposit_manual(user=demo, amount=demo_deposit(), note="Demo funds", created_by=None)
        if settings.PANEL_CURRENCY in DEMO_VND_RATES:
            ExchangeRate.objects.get_or_create(
                currency="VND", defaults={"rate": DEMO_VND_RATES[settings.PANEL_CURRENCY]}
            )
        provider, _ = Provider.objects.update_or_create(
            name="Simulator",
            defaults={
                "api_url": options["simulator_url"],
                "api_key": options["simulator_key"],
                "currency": options["currency"],
                "is_active": True,
            },
        )
        for title, body in DEMO_CANNED_REPLIES.items():
            CannedReply.objects.get_or_create(title=title, defaults={"body": body})
        service_completion_refresh()  # the catalog's average times, from any completed demo orders
        self.stdout.write(
            f"Demo data ready: users 'admin' (staff) and 'demo' (customer); provider '{provider.name}' "
            f"at {provider.api_url}."
        )
