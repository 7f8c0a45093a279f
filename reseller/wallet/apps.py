from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "reseller.wallet"
    label = "wallet"
    verbose_name = "Wallet"

    def ready(self):
        from . import receivers  # noqa: F401
