from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from . import tasks  # noqa: F401  (registers the Celery tasks)
