from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "reseller.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Registers the tasks in every process (web included), so notifications.py finds them by name.
        from . import receivers, tasks  # noqa: F401
