"""Serve the fake payment gateways (Stripe Checkout, payOS, SePay) until Ctrl-C. Never touches the database.

The secrets come from the settings, each falling back to the fake's demo default when it is missing or empty,
so the panel and the fake agree without configuration. Nothing secret is printed.
"""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.fakes import FakeGatewaysConfig, FakeGatewaysServer, serve

# config field: the setting it comes from
SETTINGS = {
    "stripe_secret_key": "STRIPE_SECRET_KEY",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "payos_client_id": "PAYOS_CLIENT_ID",
    "payos_api_key": "PAYOS_API_KEY",
    "payos_checksum_key": "PAYOS_CHECKSUM_KEY",
    "sepay_api_key": "SEPAY_API_KEY",
    "bank_bin": "BANK_BIN",
    "bank_account": "BANK_ACCOUNT_NUMBER",
    "bank_account_name": "BANK_ACCOUNT_NAME",
}
SEPAY_ID_EPOCH = 1735689600  # 2025-01-01 UTC


def gateways_config(panel_url: str | None = None) -> FakeGatewaysConfig:
    """The fake's configuration from the settings (a setting missing or empty: the fake's default)."""
    defaults = FakeGatewaysConfig()
    values = {
        name: str(getattr(settings, setting, "") or getattr(defaults, name))
        for name, setting in SETTINGS.items()
    }
    panel_url = panel_url or getattr(settings, "PANEL_URL", "") or defaults.panel_url
    return FakeGatewaysConfig(panel_url=panel_url, sepay_first_id=sepay_first_id(), **values)


def sepay_first_id() -> int:
    """SePay transfer ids that a restarted fake does not reuse (the panel deduplicates on them): the default
    first id plus ten per second since 2025, which stays a 32-bit integer until 2031."""
    return FakeGatewaysConfig.sepay_first_id + max(0, int(time.time()) - SEPAY_ID_EPOCH) * 10


class Command(BaseCommand):
    help = "Serve fake payment gateways (Stripe Checkout, payOS, SePay) for the demo and tests."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8002)
        parser.add_argument(
            "--panel-url", default=None, help="where webhooks go (default: settings.PANEL_URL)"
        )
        parser.add_argument(
            "--public-url",
            default=None,
            help="the fake's base URL as browsers reach it (default: http://host:port)",
        )

    def handle(self, *args, **options):
        config = gateways_config(options["panel_url"])
        _ensure_request_log_is_shown()
        try:
            serve(
                config,
                options["host"],
                options["port"],
                public_url=options["public_url"],
                on_ready=self._ready,
            )
        except OSError as error:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {error}") from error

    def _ready(self, server: FakeGatewaysServer) -> None:
        url, panel_url = server.url, server.gateways.config.panel_url
        self.stdout.write(
            f"Fake payment gateways ready at {url} (Stripe {url}/stripe, payOS {url}/payos/,"
            f" SePay {url}/sepay/), webhooks to {panel_url} (Ctrl-C to stop)"
        )
        self.stdout.flush()


def _ensure_request_log_is_shown():
    """The per-request lines are INFO; show them even where the settings configure no logging."""
    if not logging.getLogger("payments.fakes").hasHandlers():
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
