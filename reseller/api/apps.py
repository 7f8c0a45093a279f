from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "reseller.api"
    label = "api"
    verbose_name = "API v2"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system check)
