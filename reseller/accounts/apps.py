from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "reseller.accounts"
    label = "accounts"
    verbose_name = "Accounts"
