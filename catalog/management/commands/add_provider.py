from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.management.arguments import decimal_number
from catalog.services import provider_create


class Command(BaseCommand):
    help = "Registers an upstream provider (SMM panel API v2)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--url", required=True, help="The provider's API URL, e.g. https://x.com/api/v2")
        parser.add_argument("--key", required=True, help="Your API key at the provider.")
        parser.add_argument("--currency", default="USD")
        parser.add_argument(
            "--rate", type=decimal_number, default=Decimal(1), help="Panel-currency units per provider unit."
        )
        parser.add_argument("--markup", type=decimal_number, default=None, help="Default markup percent.")

    def handle(self, *args, **options):
        try:
            provider = provider_create(
                name=options["name"],
                api_url=options["url"],
                api_key=options["key"],
                currency=options["currency"],
                exchange_rate=options["rate"],
                markup_percent=options["markup"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Provider {provider.name!r} added (id {provider.pk}). Run sync_services next.")
