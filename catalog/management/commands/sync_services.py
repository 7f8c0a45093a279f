from django.core.management.base import BaseCommand, CommandError

from catalog import upstream
from catalog.models import Provider
from catalog.sync import provider_sync_services


class Command(BaseCommand):
    help = "Imports the services of every active provider (or one) into the catalog."

    def add_arguments(self, parser):
        parser.add_argument("--provider", help="Only this provider (by name).")
        parser.add_argument("--enable-new", action="store_true", help="Sell new services at once.")

    def handle(self, *args, provider=None, enable_new=False, **options):
        providers = Provider.objects.filter(is_active=True)
        if provider:
            providers = Provider.objects.filter(name=provider)
            if not providers:
                raise CommandError(f"No provider named {provider!r}.")
        failed = 0
        for each in providers:
            try:
                result = provider_sync_services(provider=each, enable_new=enable_new or None)
            except upstream.UpstreamError as exc:
                failed += 1
                self.stderr.write(f"{each.name}: sync failed: {exc}")
            else:
                self.stdout.write(f"{each.name}: {result}")
        if failed:
            raise CommandError(f"{failed} provider(s) failed to sync.")
