from django.core.management.base import BaseCommand

from orders.polling import orders_poll


class Command(BaseCommand):
    help = "Runs one polling sweep now, synchronously, and prints what it did."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Check every open order now, not only those due."
        )

    def handle(self, *args, **options):
        result = orders_poll(every=options["all"])
        due = f"; {result.due} of them were due" if options["all"] else ""
        self.stdout.write(f"{result}{due}.")
