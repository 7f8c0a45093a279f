from django.core.management.base import BaseCommand

from orders.refills import refills_poll


class Command(BaseCommand):
    help = "Runs one refill polling sweep now, synchronously, and prints what it did."

    def handle(self, *args, **options):
        self.stdout.write(f"{refills_poll()}.")
