from django.core.management.base import BaseCommand

from orders.polling import orders_poll


class Command(BaseCommand):
    help = "Runs one polling sweep now, synchronously, and prints what it did."

    def handle(self, *args, **options):
        self.stdout.write(f"{orders_poll()}.")
