from django.apps import AppConfig


class CockpitConfig(AppConfig):
    """The operator's cockpit: the admin dashboard's figures, alerts, `/healthz` and `/metrics`."""

    name = "cockpit"
    verbose_name = "Cockpit"

    def ready(self):
        from . import tasks  # noqa: F401  (registers the Celery tasks)
