from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        # Registers the tasks in every process (web included), so orders/queue.py finds them by name.
        from . import tasks  # noqa: F401
